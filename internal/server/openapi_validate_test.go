package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/errors"

	"github.com/dnsscience/dnsscience/internal/ratelimit"
)

// openAPIValidator fetches /api/openapi.json from the running server,
// requires it to be a valid OpenAPI 3.1 document (libopenapi-validator
// checks it against the specification's schema) and returns a validator
// for requests and responses. Strict mode refuses properties a schema does
// not declare, so an undocumented response field fails too.
func openAPIValidator(t *testing.T, ts *testServer) validator.Validator {
	t.Helper()
	resp, err := http.Get(ts.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatalf("parsing /api/openapi.json: %v", err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Fatalf("OpenAPI version %q, want 3.1.0", v)
	}
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions(), config.WithStrictMode(),
		config.WithStrictIgnoredHeadersExtra(servedHeaders...), config.WithStrictIgnorePaths(freeForm...))
	if len(errs) > 0 {
		t.Fatalf("building the validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		t.Fatalf("/api/openapi.json is not a valid OpenAPI 3.1 document:\n%s", validationText(verrs))
	}
	return v
}

// servedHeaders are set on every answer by the middleware (request id,
// security headers) or by the rate limiter; the description states them
// once in info.description rather than on each response.
var servedHeaders = []string{"X-Request-Id", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy",
	"Content-Security-Policy", "RateLimit", "RateLimit-Policy", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}

// freeForm are the parts whose shape depends on the measurement type and
// that the description leaves open (documented per type in docs/JSON.md):
// a measurement's options and its result, and a check's options.
var freeForm = []string{"$.body.options.*", "$.body.result.**",
	"$.body.measurements[*].options.*", "$.body.measurements[*].result.**",
	"$.body.definition.options.*", "$.body.checks[*].definition.options.*"}

func validationText(errs []*errors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "- %s: %s\n", e.Message, e.Reason)
		for _, se := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "    at %s: %s\n", se.FieldPath, se.Reason)
		}
	}
	return b.String()
}

// exchange sends one request to the server and validates the response
// against the description, and the request too unless it is meant to be
// bad (a 400 answer); it returns the status and body.
func exchange(t *testing.T, v validator.Validator, ts *testServer, method, path, body string) (int, []byte) {
	t.Helper()
	return exchangeWith(t, v, ts, method, path, body, nil)
}

// exchangeWith is exchange with request headers (they override the
// Content-Type given to a body).
func exchangeWith(t *testing.T, v validator.Validator, ts *testServer, method, path, body string, hdr map[string]string) (int, []byte) {
	t.Helper()
	newReq := func() *http.Request {
		req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if strings.HasPrefix(path, "/api/v1/measurements") {
			req.Header.Set(clientTokenHeader, ts.token)
		}
		return req
	}
	resp, err := http.DefaultClient.Do(newReq())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(got))
	validate := v.ValidateHttpRequestResponse
	if resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized {
		// the request is bad (or lacks its key) on purpose
		validate = v.ValidateHttpResponse
	}
	if ok, errs := validate(newReq(), resp); !ok {
		t.Errorf("%s %s → %d does not match the OpenAPI description:\n%s\nbody: %.600s", method, path, resp.StatusCode, validationText(errs), got)
	}
	return resp.StatusCode, got
}

// TestOpenAPIValidatesResponses validates the description itself and real
// answers of the running server — successes and problem documents —
// against the response schemas it declares.
func TestOpenAPIValidatesResponses(t *testing.T) {
	ts := startServer(t, Config{DataDir: t.TempDir(), Geo: testGeo(t)})
	v := openAPIValidator(t, ts)
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/health", "", 200},
		{"GET", "/ready", "", 200},
		{"GET", "/api/v1/dns/www.example.test/A", "", 200},
		{"GET", "/api/v1/dns/www.example.test/A", "", 200}, // from the cache
		{"GET", "/api/v1/dns/example.test/MX", "", 200},
		{"GET", "/api/v1/dns/nowhere.example.test/A", "", 200}, // NXDOMAIN
		{"GET", "/api/v1/dns/bad..name/A", "", 400},
		{"GET", "/api/v1/dns/example.test/NOPE", "", 400},
		{"GET", "/api/v1/resolvers", "", 200},
		{"GET", "/api/v1/locations", "", 200},
		{"GET", "/api/remote-locations", "", 200},
		{"GET", "/api/scan/example.test", "", 200},
		{"GET", "/api/scan/bad..name", "", 400},
		{"GET", "/api/compare?domain1=example.test&domain2=other.test", "", 200},
		{"GET", "/api/compare?domain1=example.test", "", 400},
		{"GET", "/api/v1/geo/about", "", 200},
		{"GET", "/api/v1/geo/10.1.2.3", "", 200},
		{"GET", "/api/v1/geo/81.2.69.7", "", 200},
		{"GET", "/api/v1/geo/not-an-address", "", 400},
		{"GET", "/api/v1/measurements/no-such-id", "", 404},
		{"GET", "/api/v1/measurements?limit=5000", "", 400},
		{"POST", "/api/v1/measurements", `{"type":"dns","target":"www.example.test","options":{"colour":"red"}}`, 400},
	} {
		if got, body := exchange(t, v, ts, c.method, c.path, c.body); got != c.want {
			t.Errorf("%s %s: status %d, want %d: %s", c.method, c.path, got, c.want, body)
		}
	}
	testMeasurementsAgainstOpenAPI(t, v, ts)
	testValidatorRefuses(t, v, ts)
}

// testValidatorRefuses shows the validator is not lenient: an undeclared
// field, a wrong type and a problem without its title all fail.
func testValidatorRefuses(t *testing.T, v validator.Validator, ts *testServer) {
	for _, c := range []struct {
		path   string
		status int
		ctype  string
		body   string
	}{
		{"/health", 200, "application/json", `{"status":"ok","version":"test","uptime_s":1,"surprise":true}`},
		{"/health", 200, "application/json", `{"status":"ok","uptime_s":"long"}`},
		{"/api/v1/measurements/x", 404, "application/problem+json", `{"type":"about:blank","status":404}`},
		{"/ready", 418, "application/json", `{"status":"ok"}`},
	} {
		req, _ := http.NewRequest("GET", ts.URL+c.path, nil)
		resp := &http.Response{StatusCode: c.status, Header: http.Header{"Content-Type": {c.ctype}},
			Body: io.NopCloser(strings.NewReader(c.body)), Request: req}
		if ok, _ := v.ValidateHttpResponse(req, resp); ok {
			t.Errorf("GET %s → %d %s passed validation, want it refused", c.path, c.status, c.body)
		}
	}
}

func testMeasurementsAgainstOpenAPI(t *testing.T, v validator.Validator, ts *testServer) {
	for _, body := range []string{
		`{"type":"dns","target":"www.example.test","options":{"type":"A"}}`,
		`{"type":"geo","target":"10.1.2.3"}`,
	} {
		status, got := exchange(t, v, ts, "POST", "/api/v1/measurements", body)
		var m struct{ ID string }
		if err := json.Unmarshal(got, &m); status != 202 || err != nil || m.ID == "" {
			t.Fatalf("POST %s: %d %s", body, status, got)
		}
		ts.wait(t, m.ID)
		if status, got = exchange(t, v, ts, "GET", "/api/v1/measurements/"+m.ID, ""); status != 200 || !bytes.Contains(got, []byte(`"finished"`)) {
			t.Errorf("GET measurement %s: %d %s", m.ID, status, got)
		}
	}
	if status, got := exchange(t, v, ts, "GET", "/api/v1/measurements?limit=10", ""); status != 200 || !bytes.Contains(got, []byte(`"geo"`)) {
		t.Errorf("list: %d %s", status, got)
	}
}

// TestOpenAPIValidatesRateLimited validates a 429 problem and its headers.
func TestOpenAPIValidatesRateLimited(t *testing.T) {
	ts := startServer(t, Config{RateLimits: []ratelimit.Policy{{Name: "dns", Limit: 1, Window: time.Hour}}})
	v := openAPIValidator(t, ts)
	// Without geo data the lists are null.
	if got, body := exchange(t, v, ts, "GET", "/api/v1/geo/about", ""); got != 200 {
		t.Errorf("geo about: %d %s", got, body)
	}
	if got, body := exchange(t, v, ts, "GET", "/api/v1/dns/www.example.test/A", ""); got != 200 {
		t.Fatalf("first query: %d %s", got, body)
	}
	got, body := exchange(t, v, ts, "GET", "/api/v1/dns/www.example.test/A", "")
	if got != 429 || !bytes.Contains(body, []byte(`"retry_after"`)) {
		t.Errorf("second query: %d %s, want 429 with retry_after", got, body)
	}
}
