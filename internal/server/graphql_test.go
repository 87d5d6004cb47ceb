package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/netpolicy"
)

// gqlResponse is a GraphQL response.
type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// gql posts a GraphQL request as ts's client (its token, plus header) and
// decodes the answer.
func (ts *testServer) gql(t testing.TB, query string, vars map[string]any, header http.Header) (gqlResponse, *http.Response) {
	t.Helper()
	return ts.gqlBody(t, map[string]any{"query": query, "variables": vars}, header)
}

func (ts *testServer) gqlBody(t testing.TB, body map[string]any, header http.Header) (gqlResponse, *http.Response) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/graphql", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(clientTokenHeader, ts.token)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("POST /graphql %s: %d, not a GraphQL response: %s", b, resp.StatusCode, raw)
	}
	return out, resp
}

// normal is JSON decoded, for comparisons that ignore layout.
func normal(t testing.TB, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
	return v
}

// TestGraphQLSameResultsAsREST: a dns measurement (against the dnstest
// server on loopback) created through GraphQL reads the same through both
// faces, and one created through REST reads the same through GraphQL; it
// is listed to its creator only, the kinds, locations and resolvers are
// the REST face's, and the schema is published.
func TestGraphQLSameResultsAsREST(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{})
	var created struct {
		Data struct {
			CreateMeasurement struct{ ID, Status, Kind string } `json:"createMeasurement"`
		} `json:"data"`
	}
	r, _ := ts.gql(t, `mutation($o: MeasurementOptions) { createMeasurement(kind: "dns", target: "www.example.test", options: $o) { id status kind } }`,
		map[string]any{"o": map[string]any{"dns": map[string]any{"type": "A", "timeout": "3s"}}}, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("createMeasurement: %+v", r.Errors)
	}
	_ = json.Unmarshal([]byte(`{"data":`+string(r.Data)+`}`), &created)
	c := created.Data.CreateMeasurement
	if c.ID == "" || c.Status != "queued" || c.Kind != "dns" {
		t.Fatalf("created %+v, want a queued dns measurement", c)
	}
	viaGraphQL := ts.wait(t, c.ID)
	if viaGraphQL.Status != "finished" || !bytes.Contains(viaGraphQL.Result, []byte("192.0.2.")) && !bytes.Contains(viaGraphQL.Result, []byte(`"answer"`)) {
		t.Fatalf("the GraphQL-created measurement through REST: %s %s", viaGraphQL.Status, viaGraphQL.Result)
	}
	rest := ts.measure(t, `{"type":"dns","target":"www.example.test","options":{"type":"A","timeout":"3s"}}`)

	for _, id := range []string{c.ID, rest.ID} {
		var restBody json.RawMessage
		ts.get(t, "/api/v1/measurements/"+id, &restBody)
		r, _ := ts.gql(t, `query($id: ID!) { measurement(id: $id) { id kind target status options result locations error clientId } }`, map[string]any{"id": id}, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("measurement %s: %+v", id, r.Errors)
		}
		var got struct {
			Measurement map[string]any `json:"measurement"`
		}
		_ = json.Unmarshal(r.Data, &got)
		want := normal(t, restBody).(map[string]any)
		g := got.Measurement
		for restName, gqlName := range map[string]string{"id": "id", "type": "kind", "target": "target", "status": "status",
			"options": "options", "result": "result", "locations": "locations", "client_id": "clientId"} {
			if !reflect.DeepEqual(want[restName], g[gqlName]) {
				t.Errorf("measurement %s: REST %s = %v, GraphQL %s = %v", id, restName, want[restName], gqlName, g[gqlName])
			}
		}
		if want["result"] == nil {
			t.Errorf("measurement %s has no result through REST: %s", id, restBody)
		}
	}

	// Lists: the creator's own, through its token; nobody else's.
	list := `{ measurements(kind: "dns", limit: 10) { measurements { id } nextBefore } }`
	r, _ = ts.gql(t, list, nil, nil)
	if !strings.Contains(string(r.Data), c.ID) || !strings.Contains(string(r.Data), rest.ID) {
		t.Errorf("own list %s lacks %s or %s (errors %+v)", r.Data, c.ID, rest.ID, r.Errors)
	}
	r, _ = ts.gql(t, list, nil, http.Header{clientTokenHeader: {strings.Repeat("o", 40)}})
	if strings.Contains(string(r.Data), c.ID) || len(r.Errors) > 0 {
		t.Errorf("another client's list shows %s: %s %+v", c.ID, r.Data, r.Errors)
	}
	// Another client reads the permalink but not who created it.
	r, _ = ts.gql(t, `query($id: ID!) { measurement(id: $id) { id clientId } }`, map[string]any{"id": c.ID},
		http.Header{clientTokenHeader: {strings.Repeat("o", 40)}})
	if !strings.Contains(string(r.Data), c.ID) || strings.Contains(string(r.Data), "web:") {
		t.Errorf("another client reads %s", r.Data)
	}
	r, _ = ts.gql(t, `{ measurement(id: "nope") { id } }`, nil, nil)
	if string(r.Data) != `{"measurement":null}` {
		t.Errorf("missing measurement: %s", r.Data)
	}

	// Kinds, locations and resolvers are the REST face's.
	for _, c := range []struct{ rest, query, field string }{
		{"/api/v1/locations", `{ locations { id name status } }`, "locations"},
		{"/api/v1/resolvers", `{ resolvers { name } }`, "resolvers"},
		{"/api/v1/kinds", `{ kinds { name class options { name type } } }`, "kinds"},
	} {
		var restBody map[string][]map[string]any
		ts.get(t, c.rest, &restBody)
		r, _ := ts.gql(t, c.query, nil, nil)
		var got map[string][]map[string]any
		_ = json.Unmarshal(r.Data, &got)
		if len(got[c.field]) == 0 || len(got[c.field]) != len(restBody[c.field]) {
			t.Errorf("%s: GraphQL %d, REST %d (%+v)", c.field, len(got[c.field]), len(restBody[c.field]), r.Errors)
			continue
		}
		for i, g := range got[c.field] {
			if g["name"] != restBody[c.field][i]["name"] {
				t.Errorf("%s[%d]: GraphQL %v, REST %v", c.field, i, g["name"], restBody[c.field][i]["name"])
			}
		}
	}
	resp, err := http.Get(ts.URL + "/api/v1/schema.graphql")
	if err != nil {
		t.Fatal(err)
	}
	sdl, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(sdl, []byte("input TraceOptions")) || !bytes.Contains(sdl, []byte("type Subscription")) {
		t.Errorf("schema: %d %.200s", resp.StatusCode, sdl)
	}
}

// TestGraphQLErrorsAsREST: bad input is refused with the REST problem's
// code, field and detail.
func TestGraphQLErrorsAsREST(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Policy: netpolicy.Default(), Geo: testGeo(t)})
	for _, c := range []struct {
		name, rest, query string
		vars              map[string]any
	}{
		{"option over its limit", `{"type":"dns","target":"www.example.test","options":{"timeout":"99s"}}`,
			`mutation($o: MeasurementOptions) { createMeasurement(kind: "dns", target: "www.example.test", options: $o) { id } }`,
			map[string]any{"o": map[string]any{"dns": map[string]any{"timeout": "99s"}}}},
		{"unknown kind", `{"type":"nope","target":"x"}`, `mutation { createMeasurement(kind: "nope", target: "x") { id } }`, nil},
		{"refused target", `{"type":"trace","target":"127.0.0.1"}`, `mutation { createMeasurement(kind: "trace", target: "127.0.0.1") { id } }`, nil},
		{"unknown location", `{"type":"dns","target":"www.example.test","locations":["mars"]}`,
			`mutation { createMeasurement(kind: "dns", target: "www.example.test", locations: ["mars"]) { id } }`, nil},
	} {
		var p Problem
		resp := ts.post(t, c.rest, nil, &p)
		r, _ := ts.gql(t, c.query, c.vars, nil)
		if len(r.Errors) != 1 {
			t.Errorf("%s: errors %+v, want one", c.name, r.Errors)
			continue
		}
		ext := r.Errors[0].Extensions
		if ext["code"] != strings.TrimPrefix(p.Type, problemBase) || ext["status"] != float64(resp.StatusCode) || ext["detail"] != p.Detail {
			t.Errorf("%s: GraphQL %v, REST %d %+v", c.name, ext, resp.StatusCode, p)
		}
		if len(p.Errors) > 0 && ext["field"] != p.Errors[0].Field {
			t.Errorf("%s: GraphQL field %v, REST %q", c.name, ext["field"], p.Errors[0].Field)
		}
	}
	// Options of another kind name the field.
	r, _ := ts.gql(t, `mutation { createMeasurement(kind: "dns", target: "www.example.test", options: {trace: {max_hops: 3}}) { id } }`, nil, nil)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["field"] != "options.trace" || r.Errors[0].Extensions["code"] != "validation" {
		t.Errorf("options of another kind: %+v", r.Errors)
	}
	// GraphQL checks option types before the registry sees them.
	r, _ = ts.gql(t, `mutation { createMeasurement(kind: "trace", target: "10.0.0.1", options: {trace: {max_hops: "many"}}) { id } }`, nil, nil)
	if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "Int") {
		t.Errorf("a string for an Int option: %+v", r.Errors)
	}
	// The geo lookup, and its bad address, as REST answers them.
	var restGeo map[string]any
	ts.get(t, "/api/v1/geo/81.2.69.7", &restGeo)
	r, _ = ts.gql(t, `{ geo(addr: "81.2.69.7") { addr city countryCode asn raw } }`, nil, nil)
	var geo struct {
		Geo struct {
			Addr, City, CountryCode string
			Raw                     map[string]any
		}
	}
	_ = json.Unmarshal(r.Data, &geo)
	if !reflect.DeepEqual(geo.Geo.Raw, restGeo) || geo.Geo.Addr != "81.2.69.7" || geo.Geo.City != restGeo["city"] {
		t.Errorf("geo: GraphQL %+v %+v, REST %v", geo.Geo, r.Errors, restGeo)
	}
	r, _ = ts.gql(t, `{ geo(addr: "not-an-address") { addr } }`, nil, nil)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["field"] != "addr" || r.Errors[0].Extensions["status"] != float64(400) {
		t.Errorf("bad geo address: %+v", r.Errors)
	}
	// A revoked or unknown key is refused before GraphQL runs, as in REST.
	r, resp := ts.gql(t, `{ kinds { name } }`, nil, http.Header{"Authorization": {"Bearer dss_nosuchkey"}})
	if resp.StatusCode != 401 || len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "unauthorized" {
		t.Errorf("unknown key: %d %+v", resp.StatusCode, r.Errors)
	}
}

// TestGraphQLSharesTraceRateLimit: traces through REST and GraphQL count
// against the one bucket of 10 a minute; the 11th is refused through both
// with the same reason. (The default policy refuses the loopback target
// after the limit counted the request, so no trace runs.)
func TestGraphQLSharesTraceRateLimit(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Policy: netpolicy.Default()})
	mutation := `mutation { createMeasurement(kind: "traceroute", target: "127.0.0.1", options: {trace: {max_hops: 5}}) { id } }`
	for i := range 10 {
		if i%2 == 0 {
			if resp := ts.post(t, `{"type":"trace","target":"127.0.0.1","options":{"max_hops":5}}`, nil, nil); resp.StatusCode != 403 {
				t.Fatalf("REST trace %d: %d, want 403 (counted, then refused by policy)", i+1, resp.StatusCode)
			}
			continue
		}
		r, resp := ts.gql(t, mutation, nil, nil)
		if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "target-refused" {
			t.Fatalf("GraphQL trace %d: %+v, want target-refused", i+1, r.Errors)
		}
		if resp.Header.Get("RateLimit-Policy") == "" {
			t.Errorf("GraphQL trace %d: no rate-limit headers", i+1)
		}
	}
	var p Problem
	resp := ts.post(t, `{"type":"trace","target":"127.0.0.1"}`, nil, &p)
	r, _ := ts.gql(t, mutation, nil, nil)
	if resp.StatusCode != 429 || len(r.Errors) != 1 {
		t.Fatalf("11th trace: REST %d, GraphQL %+v; want both refused", resp.StatusCode, r.Errors)
	}
	ext := r.Errors[0].Extensions
	reason := func(s string) string { return s[:strings.Index(s, "retry in")] }
	if ext["code"] != "rate-limited" || ext["status"] != float64(429) || reason(ext["detail"].(string)) != reason(p.Detail) || ext["retryAfter"] == nil {
		t.Errorf("11th trace: GraphQL %v, REST %+v", ext, p)
	}
	if !strings.HasPrefix(p.Detail, "trace allows 10 requests per 1m0s per client") {
		t.Errorf("REST reason %q", p.Detail)
	}
	// Another class is not touched: a dns measurement still goes through.
	r, _ = ts.gql(t, `mutation { createMeasurement(kind: "dns", target: "www.example.test") { id } }`, nil, nil)
	if len(r.Errors) > 0 {
		t.Errorf("dns after the traces: %+v", r.Errors)
	}
}

// TestGraphQLLimits: an over-deep query is refused while the standard
// introspection query runs; an over-complex one is refused; a persisted
// query runs by its hash once registered; a GET query works.
func TestGraphQLLimits(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{})
	deep := `{ __type(name: "Measurement") { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } } } } }`
	r, _ := ts.gql(t, deep, nil, nil)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "DEPTH_LIMIT_EXCEEDED" || r.Data != nil && string(r.Data) != "null" {
		t.Errorf("deep query: data %s errors %+v, want refused for depth", r.Data, r.Errors)
	}
	r, _ = ts.gql(t, introspectionQuery, nil, nil)
	if len(r.Errors) > 0 || !bytes.Contains(r.Data, []byte("MeasurementEvent")) {
		t.Errorf("introspection: %+v", r.Errors)
	}
	var wide strings.Builder
	wide.WriteString("{")
	for i := range 1100 {
		wide.WriteString(" k" + strings.Repeat("x", i%3) + "_" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + ": kinds { name }")
	}
	wide.WriteString(" }")
	r, _ = ts.gql(t, wide.String(), nil, nil)
	if len(r.Errors) == 0 || !strings.Contains(r.Errors[0].Message, "complexity") {
		t.Errorf("complex query: %+v", r.Errors)
	}
	// Automatic persisted queries: the hash alone is unknown at first,
	// then registered with the query, then enough.
	q := `{ kinds { name } }`
	sum := sha256.Sum256([]byte(q))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	r, _ = ts.gqlBody(t, map[string]any{"extensions": ext}, nil)
	if len(r.Errors) != 1 || r.Errors[0].Message != "PersistedQueryNotFound" {
		t.Errorf("unknown persisted query: %+v", r.Errors)
	}
	if r, _ = ts.gqlBody(t, map[string]any{"query": q, "extensions": ext}, nil); len(r.Errors) > 0 {
		t.Errorf("registering: %+v", r.Errors)
	}
	if r, _ = ts.gqlBody(t, map[string]any{"extensions": ext}, nil); len(r.Errors) > 0 || !bytes.Contains(r.Data, []byte(`"trace"`)) {
		t.Errorf("by hash: %s %+v", r.Data, r.Errors)
	}
	// GET, as GraphQL over HTTP allows for queries.
	resp, err := http.Get(ts.URL + "/graphql?query=" + strings.ReplaceAll(`{kinds{name}}`, "{", "%7B"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"dns"`)) {
		t.Errorf("GET query: %d %s", resp.StatusCode, body)
	}
	_ = context.Background
}

// introspectionQuery is graphql-js's getIntrospectionQuery(), what
// GraphiQL and code generators send.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`

// TestGraphQLChecks: the monitor's checks with their state and history, as
// GET /api/v1/checks/{id} and its transitions answer them; null for an
// unknown check; the REST face's not-found when monitoring is off.
func TestGraphQLChecks(t *testing.T) {
	t.Parallel()
	ts, _, failing, run := monitoredServer(t)
	for _, outcome := range []bool{false, false, true, true, true, false, false} {
		failing.Store(outcome)
		run()
	}
	var restTr struct{ Transitions []map[string]any }
	ts.get(t, "/api/v1/checks/web-health/transitions", &restTr)
	r, _ := ts.gql(t, `{ checks(group: "edge") { id status group lastResult transitions(limit: 10) { from to at } } check(id: "nope") { id } }`, nil, nil)
	var got struct {
		Checks []struct {
			ID, Status, Group string
			LastResult        map[string]any
			Transitions       []map[string]any
		}
		Check *struct{ ID string }
	}
	_ = json.Unmarshal(r.Data, &got)
	if len(r.Errors) > 0 || len(got.Checks) != 1 || got.Check != nil {
		t.Fatalf("checks: %s %+v", r.Data, r.Errors)
	}
	c := got.Checks[0]
	if c.ID != "web-health" || c.Status != "up" || c.LastResult["outcome"] != "ok" || len(c.Transitions) != len(restTr.Transitions) || len(c.Transitions) == 0 {
		t.Fatalf("check %+v; REST transitions %v", c, restTr.Transitions)
	}
	for i, tr := range c.Transitions {
		if tr["from"] != restTr.Transitions[i]["from"] || tr["to"] != restTr.Transitions[i]["to"] {
			t.Errorf("transition %d: GraphQL %v, REST %v", i, tr, restTr.Transitions[i])
		}
	}
	if r, _ := ts.gql(t, `{ checks(group: "other") { id } }`, nil, nil); string(r.Data) != `{"checks":[]}` {
		t.Errorf("another group: %s", r.Data)
	}
	off := startServer(t, Config{})
	r, _ = off.gql(t, `{ checks { id } }`, nil, nil)
	if len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != "not-found" || !strings.Contains(r.Errors[0].Message, "--checks") {
		t.Errorf("monitoring off: %+v", r.Errors)
	}
}
