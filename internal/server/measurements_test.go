package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dnsscience/dnsscience/internal/certtest"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/runner"
	"github.com/dnsscience/dnsscience/internal/store"
)

func (ts *testServer) post(t testing.TB, body string, header http.Header, out any) *http.Response {
	t.Helper()
	return ts.postTo(t, "/api/v1/measurements", body, header, out)
}

// postTo posts a JSON body to path with this client's token.
func (ts *testServer) postTo(t testing.TB, path, body string, header http.Header, out any) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(body))
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
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("POST %s %s: %d bad JSON: %s", path, body, resp.StatusCode, b)
		}
	}
	return resp
}

// wait polls a measurement until it is finished or failed.
func (ts *testServer) wait(t *testing.T, id string) store.Measurement {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var m store.Measurement
		ts.get(t, "/api/v1/measurements/"+id, &m)
		if m.Status == "finished" || m.Status == "failed" {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("measurement %s did not finish", id)
	return store.Measurement{}
}

func (ts *testServer) measure(t *testing.T, body string) store.Measurement {
	t.Helper()
	var m store.Measurement
	resp := ts.post(t, body, nil, &m)
	if resp.StatusCode != 202 || resp.Header.Get("Location") != "/api/v1/measurements/"+m.ID || m.Status != "queued" {
		t.Fatalf("POST %s: %d Location %q %+v, want 202 queued", body, resp.StatusCode, resp.Header.Get("Location"), m)
	}
	return ts.wait(t, m.ID)
}

func TestMeasurementKindsEndToEnd(t *testing.T) {
	ca := certtest.NewCA(t, "server test CA")
	web := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ws" {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			typ, msg, err := c.Read(r.Context())
			if err == nil {
				_ = c.Write(r.Context(), typ, msg)
			}
			c.Close(websocket.StatusNormalClosure, "")
			return
		}
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	}))
	web.TLS = &tlsConfig(ca.Leaf(t, "127.0.0.1")).Config
	web.StartTLS()
	defer web.Close()
	host := strings.TrimPrefix(web.URL, "https://")

	resolvers := startResolverFile(t)
	ts := startServer(t, Config{RootCAs: ca.Pool, Resolvers: resolvers, Tracer: &dnsq.Tracer{}})

	m := ts.measure(t, `{"type":"dns","target":"www.example.test","options":{"type":"A"}}`)
	var reply dnsq.Reply
	if err := json.Unmarshal(m.Result, &reply); err != nil || m.Status != "finished" || reply.Answer[0].Data != "192.0.2.10" {
		t.Errorf("dns: %s %s %v", m.Status, m.Result, err)
	}
	m = ts.measure(t, `{"type":"propagation","target":"www.example.test","options":{"expect":["192.0.2.10"]}}`)
	var prop dnsq.PropagationResult
	if err := json.Unmarshal(m.Result, &prop); err != nil || !prop.Consistent || len(prop.Results) != 2 {
		t.Errorf("propagation: %s %s", m.Status, m.Result)
	}
	for _, tc := range []struct{ body, want string }{
		{`{"type":"tcp","target":"` + host + `"}`, `"ok":true`},
		{`{"type":"cert","target":"` + host + `"}`, `"ok":true`},
		{`{"type":"http","target":"` + web.URL + `/health"}`, `"status":200`},
		{`{"type":"ws","target":"wss://` + host + `/ws","options":{"send":"ping","expect":"ping"}}`, `"ok":true`},
	} {
		m := ts.measure(t, tc.body)
		if m.Status != "finished" || !strings.Contains(string(m.Result), tc.want) {
			t.Errorf("%s: %s %s, want a result with %s", tc.body, m.Status, m.Result, tc.want)
		}
	}
	var list struct {
		Measurements []store.Measurement `json:"measurements"`
	}
	if ts.get(t, "/api/v1/measurements?type=dns", &list); len(list.Measurements) != 1 || list.Measurements[0].Type != "dns" {
		t.Errorf("list ?type=dns: %+v", list.Measurements)
	}
}

// startResolverFile starts two stand-in resolvers that agree.
func startResolverFile(t *testing.T) []dnsq.Resolver { return startSlowResolvers(t, 0) }

// startSlowResolvers starts two stand-in resolvers that agree, each taking
// delay to answer.
func startSlowResolvers(t *testing.T, delay time.Duration) []dnsq.Resolver {
	var rs []dnsq.Resolver
	for i, ip := range []string{"127.0.0.31", "127.0.0.32"} {
		s := dnstest.StartOn(t, ip, dnstest.Delay(delay, dnstest.NewZone(t, "example.test.", testZone)))
		_, port, _ := strings.Cut(s.Addr, ":")
		var p int
		_ = json.Unmarshal([]byte(port), &p)
		rs = append(rs, dnsq.Resolver{Name: []string{"r1", "r2"}[i], Operator: "test", IPv4: []string{ip}, Port: p})
	}
	return rs
}

func TestDefaultPolicyRefusesPrivateTargets(t *testing.T) {
	names := dnstest.Start(t, dnstest.NewZone(t, "evil.test.", "$TTL 60\n@ SOA ns h 1 2 3 4 5\nlocal A 127.0.0.1\n"))
	up, err := dnsq.ParseServer(names.Addr)
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, Config{Policy: netpolicy.Default(), Upstream: []dnsq.Server{up}})
	for _, target := range []string{
		`"tcp","target":"127.0.0.1:22"`,
		`"tcp","target":"10.0.0.1:80"`,
		`"http","target":"http://169.254.169.254/latest/meta-data/"`,
		`"http","target":"http://[::ffff:127.0.0.1]/"`,
		`"cert","target":"local.evil.test:443"`,
	} {
		var p Problem
		resp := ts.post(t, `{"type":`+target+`}`, nil, &p)
		if resp.StatusCode != 403 || !strings.Contains(p.Detail, "denied") {
			t.Errorf("%s: %d %+v, want 403 naming the denial", target, resp.StatusCode, p)
		}
	}
}

func TestRedirectToPrivateAddressFails(t *testing.T) {
	l, err := netListen("127.0.0.2:0")
	if err != nil {
		t.Skip(err)
	}
	private := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "TOPSECRET") }))
	private.Listener.Close()
	private.Listener = l
	private.Start()
	defer private.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, private.URL+"/x", http.StatusFound)
	}))
	defer redirector.Close()
	// 127.0.0.1 (the redirector) is allowed; 127.0.0.2 stays denied.
	ts := startServer(t, Config{Policy: netpolicy.Default().Allow(mustPrefix("127.0.0.1/32"))})
	m := ts.measure(t, `{"type":"http","target":"`+redirector.URL+`","options":{"follow_redirects":true}}`)
	if !strings.Contains(string(m.Result), "denied") && !strings.Contains(m.Error, "denied") {
		t.Errorf("redirect to 127.0.0.2: status %s error %q result %s, want a policy denial", m.Status, m.Error, m.Result)
	}
	if strings.Contains(string(m.Result), "TOPSECRET") {
		t.Error("the private server's body leaked into the result")
	}
}

func TestMeasurementValidation(t *testing.T) {
	ts := startServer(t, Config{})
	for _, tc := range []struct{ body, field string }{
		{`{"type":"nuke","target":"x"}`, "type"},
		{`{"type":"dns","target":""}`, "target"},
		{`{"type":"dns","target":"a..b"}`, "target"},
		{`{"type":"dns","target":"x.test","options":{"type":"BOGUS"}}`, "options.type"},
		{`{"type":"dns","target":"x.test","options":{"colour":"red"}}`, "options.colour"},
		{`{"type":"dns","target":"x.test","locations":["mars"]}`, "locations[0]"},
		{`{"type":"dns","target":"x.test","extra":1}`, "extra"},
		{`{"type":"tcp","target":"127.0.0.1:1","options":{"timeout_ms":"soon"}}`, "options.timeout_ms"},
	} {
		var p Problem
		resp := ts.post(t, tc.body, nil, &p)
		if resp.StatusCode != 400 || len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
			t.Errorf("%s: %d %+v, want 400 naming %s", tc.body, resp.StatusCode, p, tc.field)
		}
	}
	var p Problem
	if resp := ts.post(t, strings.Repeat(" ", 70<<10)+"{}", nil, &p); resp.StatusCode != 413 {
		t.Errorf("oversized body: %d %+v, want 413", resp.StatusCode, p)
	}
	if resp := ts.get(t, "/api/v1/measurements/nosuchid", &p); resp.StatusCode != 404 {
		t.Errorf("unknown id: %d", resp.StatusCode)
	}
}

func TestStreamSSEAndWebSocket(t *testing.T) {
	// Slow resolvers keep the measurement running while the stream attaches,
	// so the live events are seen, not only the stored result.
	resolvers := startSlowResolvers(t, 300*time.Millisecond)
	ts := startServer(t, Config{Resolvers: resolvers})
	var m store.Measurement
	ts.post(t, `{"type":"propagation","target":"www.example.test"}`, nil, &m)
	// SSE: events end with the result.
	resp, err := http.Get(ts.URL + "/api/v1/measurements/" + m.ID + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			types = append(types, ev)
		}
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" || len(types) == 0 || types[len(types)-1] != "result" {
		t.Fatalf("SSE events %v (%s), want ... result", types, resp.Header.Get("Content-Type"))
	}
	if got := strings.Join(types, ","); got != "status,answer,answer,result" {
		t.Errorf("SSE events %s: want status, one answer per resolver, then the result", got)
	}
	// WebSocket on the finished measurement: the stored result at once.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, strings.Replace(ts.URL, "http", "ws", 1)+"/api/v1/measurements/"+m.ID+"/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_, msg, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ev runner.Event
	if err := json.Unmarshal(msg, &ev); err != nil || ev.Type != "result" || !bytes.Contains(ev.Data, []byte(`"status":"finished"`)) {
		t.Errorf("WebSocket first message %s, want the finished result", msg)
	}
}

func TestAPIKeysLiftLimitsAndBadKeysAreRefused(t *testing.T) {
	st, err := store.Open(context.Background(), store.SQLiteURL(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	plain, _, err := st.CreateAPIKey(context.Background(), "ci", false)
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, Config{Store: st, RateLimits: []rlPolicy{{Name: "dns", Limit: 1, Window: time.Minute}}})
	ts.get(t, "/api/v1/dns/www.example.test/A", nil)
	if resp := ts.get(t, "/api/v1/dns/www.example.test/A", nil); resp.StatusCode != 429 {
		t.Fatalf("second anonymous request: %d, want 429", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/dns/www.example.test/A", nil)
	req.Header.Set("Authorization", "Bearer "+plain)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Limit") != "10" {
		t.Errorf("with a key: %d limit %s, want 200 with the key holders' quota (10)", resp.StatusCode, resp.Header.Get("X-RateLimit-Limit"))
	}
	req.Header.Set("Authorization", "Bearer dss_wrong")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("with a bad key: %d, want 401", resp.StatusCode)
	}
}

func TestReadyTurns503WhenTheDatabaseIsGone(t *testing.T) {
	st, err := store.Open(context.Background(), store.SQLiteURL(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, Config{Store: st})
	if resp := ts.get(t, "/ready", nil); resp.StatusCode != 200 {
		t.Fatalf("/ready: %d", resp.StatusCode)
	}
	st.Close()
	var ready map[string]any
	// The admin key cannot be checked without the database: the status alone.
	if resp := ts.get(t, "/ready", &ready); resp.StatusCode != 503 || ready["status"] != "fail" {
		t.Errorf("/ready after the store closed: %d %v, want 503 fail", resp.StatusCode, ready)
	}
}

func TestAdminRoutesNeedAnAdminKey(t *testing.T) {
	st, err := store.Open(context.Background(), store.SQLiteURL(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	adminKey, _, _ := st.CreateAPIKey(context.Background(), "ops", true)
	userKey, user, _ := st.CreateAPIKey(context.Background(), "ci", false)
	ts := startServer(t, Config{Store: st})
	do := func(method, path, key string) (int, string) {
		req, _ := http.NewRequest(method, ts.URL+path, nil)
		if key != "" {
			req.Header.Set("X-API-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := do("GET", "/api/v1/admin/apikeys", ""); code != 401 {
		t.Errorf("no key: %d, want 401", code)
	}
	if code, _ := do("GET", "/api/v1/admin/apikeys", userKey); code != 403 {
		t.Errorf("non-admin key: %d, want 403", code)
	}
	code, body := do("GET", "/api/v1/admin/apikeys", adminKey)
	if code != 200 || !strings.Contains(body, `"name":"ci"`) || strings.Contains(body, "hash") || strings.Contains(body, userKey) {
		t.Errorf("admin list: %d %s", code, body)
	}
	if code, _ := do("DELETE", "/api/v1/admin/apikeys/"+user.ID, adminKey); code != 204 {
		t.Errorf("revoke: %d, want 204", code)
	}
	if code, _ := do("GET", "/api/v1/dns/www.example.test/A", userKey); code != 401 {
		t.Errorf("revoked key: %d, want 401", code)
	}
	if code, _ := do("DELETE", "/api/v1/admin/apikeys/nosuch", adminKey); code != 404 {
		t.Errorf("unknown key id: %d, want 404", code)
	}
}
