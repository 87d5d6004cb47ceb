package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dnsscience/dnsscience/internal/monitor"
	"github.com/dnsscience/dnsscience/internal/store"
)

// flipServer is an HTTP target on loopback: 200, or 503 while failing.
func flipServer(t *testing.T) (string, *atomic.Bool) {
	t.Helper()
	var failing atomic.Bool
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			http.Error(w, "failing for a test", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String() + "/health", &failing
}

// monitoredServer starts a server watching one public HTTP check of a
// flipping target; run makes one run of it and waits for its result.
func monitoredServer(t *testing.T) (ts *testServer, st *store.Store, failing *atomic.Bool, run func() monitor.Result) {
	t.Helper()
	url, failing := flipServer(t)
	dir := t.TempDir()
	suite := `name: web
defaults: {interval: 1h, group: edge, public: true, labels: {team: platform}}
checks:
  - name: web health
    kind: http
    target: ` + url + `
    conditions: [status == 200]
`
	if err := os.WriteFile(filepath.Join(dir, "web.yaml"), []byte(suite), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), store.SQLiteURL(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	results := make(chan monitor.Result, 10)
	m := monitor.New(monitor.Config{Store: st, OnResult: func(_ string, r monitor.Result) { results <- r }})
	if err := (&monitor.Loader{Monitor: m, Path: dir}).Load(); err != nil {
		t.Fatal(err)
	}
	ts = startServer(t, Config{Store: st, Monitor: m})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	run = func() monitor.Result {
		t.Helper()
		if ok, err := m.RunNow("web-health"); !ok || err != nil {
			t.Fatalf("RunNow = %v, %v", ok, err)
		}
		r := <-results
		if err := m.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		return r
	}
	return ts, st, failing, run
}

func TestChecksAPI(t *testing.T) {
	t.Parallel()
	ts, st, failing, run := monitoredServer(t)
	v := openAPIValidator(t, ts)
	get := func(path string, want int) []byte {
		t.Helper()
		code, body := exchange(t, v, ts, "GET", path, "")
		if code != want {
			t.Fatalf("GET %s = %d, want %d: %s", path, code, want, body)
		}
		return body
	}
	var list struct {
		Checks []monitor.CheckView `json:"checks"`
	}
	_ = json.Unmarshal(get("/api/v1/checks", 200), &list)
	if len(list.Checks) != 1 || list.Checks[0].Status != "pending" {
		t.Fatalf("checks = %+v; want web-health pending", list.Checks)
	}
	for _, outcome := range []bool{false, false, true, true, true, false, false} {
		failing.Store(outcome)
		run()
	}
	var c struct {
		monitor.CheckView
		Uptime []monitor.Uptime `json:"uptime"`
	}
	_ = json.Unmarshal(get("/api/v1/checks/web-health", 200), &c)
	if c.Status != "up" || c.Last == nil || c.Last.Outcome != "ok" || len(c.Uptime) != 5 || c.Uptime[0].Runs != 7 || *c.Uptime[0].Ratio != 4.0/7 {
		t.Errorf("check = %+v", c)
	}
	var tr struct{ Transitions []store.CheckTransition }
	_ = json.Unmarshal(get("/api/v1/checks/web-health/transitions", 200), &tr)
	var changes []string
	for _, x := range tr.Transitions {
		changes = append(changes, x.From+">"+x.To)
	}
	if got := strings.Join(changes, " "); got != "down>up up>down pending>up" {
		t.Errorf("transitions %q; want newest first: down>up up>down pending>up", got)
	}
	var page struct {
		Results []json.RawMessage `json:"results"`
		Next    string            `json:"next"`
	}
	_ = json.Unmarshal(get("/api/v1/checks/web-health/results?limit=5", 200), &page)
	if len(page.Results) != 5 || page.Next == "" {
		t.Fatalf("first page: %d results, next %q", len(page.Results), page.Next)
	}
	next := page.Next
	page.Next = ""
	_ = json.Unmarshal(get(next, 200), &page)
	if len(page.Results) != 2 || page.Next != "" {
		t.Errorf("second page: %d results, next %q; want the last 2", len(page.Results), page.Next)
	}
	failedBody := get("/api/v1/checks/web-health/results?failed=true", 200)
	if n := strings.Count(string(failedBody), `"outcome":"fail"`); n != 3 || !strings.Contains(string(failedBody), "status == 200") {
		t.Errorf("failed runs: %d with evidence?\n%s", n, failedBody)
	}
	testListTrends(t, get("/api/v1/checks", 200))
	get("/api/v1/checks/web-health/uptime", 200)
	get("/api/v1/checks/web-health/series?level=minute", 200)
	get("/api/v1/checks/web-health/series?level=week", 400)
	get("/api/v1/checks/web-health/results?limit=0", 400)
	get("/api/v1/checks/nope", 404)
	get("/api/v1/checks?label=team", 400)
	_ = json.Unmarshal(get("/api/v1/checks?label=team=platform&status=up&group=edge", 200), &list)
	if len(list.Checks) != 1 {
		t.Errorf("filtered list: %d checks, want 1", len(list.Checks))
	}
	status := string(get("/api/v1/status", 200))
	if !strings.Contains(status, `"name":"edge"`) || !strings.Contains(status, `"incidents":[]`) {
		t.Errorf("status = %s", status)
	}
	if resp, err := http.Post(ts.URL+"/api/v1/checks/web-health/run", "", nil); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("run without a key = %v %v, want 401", resp, err)
	} else {
		resp.Body.Close()
	}
	key, _, _ := st.CreateAPIKey(context.Background(), "ops", true)
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/checks/web-health/run", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("run with an admin key: %v %v", resp, err)
	}
	resp.Body.Close()

	for path, want := range map[string]string{"/badge/web-health/state.svg": ">up<", "/badge/web-health/uptime-24h": "uptime 24h", "/badge/web-health/response": " ms<"} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(string(body), want) || !strings.HasPrefix(string(body), "<svg") {
			t.Errorf("GET %s = %d %s: %s; want an SVG with %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), body, want)
		}
	}
	if resp, err := http.Get(ts.URL + "/badge/web-health/nope"); err != nil || resp.StatusCode != 404 {
		t.Errorf("GET /badge/web-health/nope = %v %v, want 404", resp, err)
	} else {
		resp.Body.Close()
	}
	metricsPass(t, ts, `probe_success{check="web-health",group="edge",kind="http",location="local",team="platform"}`,
		`dnsscience_check_state{check="web-health",group="edge",kind="http",location="local",state="up",team="platform"} 1`,
		`probe_http_status_code{check="web-health",group="edge",kind="http",location="local",team="platform"}`)
}

// testListTrends checks the list's sparkline and uptime days after the 7
// runs of TestChecksAPI (4 passed), made within the last minute or two.
func testListTrends(t *testing.T, body []byte) {
	t.Helper()
	var list struct {
		Checks []struct {
			Spark      []*float64 `json:"spark"`
			UptimeDays []*float64 `json:"uptime_days"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(body, &list); err != nil || len(list.Checks) != 1 {
		t.Fatalf("list: %v %s", err, body)
	}
	c := list.Checks[0]
	if len(c.Spark) != 60 || len(c.UptimeDays) != 90 {
		t.Fatalf("spark has %d minutes, uptime_days %d days; want 60 and 90", len(c.Spark), len(c.UptimeDays))
	}
	// The runs fall in the last two minutes (a minute may turn during the test).
	if c.Spark[59] == nil && c.Spark[58] == nil || c.Spark[0] != nil {
		t.Errorf("spark = %v; want runs in the last minutes only", c.Spark)
	}
	for _, v := range c.Spark {
		if v != nil && *v <= 0 {
			t.Errorf("spark has a mean of %v ms", *v)
		}
	}
	if d := c.UptimeDays[89]; d == nil || c.UptimeDays[88] == nil && *d != 4.0/7 {
		t.Errorf("uptime_days today = %v; want 4/7", d)
	}
}

// metricsPass scrapes /metrics, runs promtool check metrics on it and
// looks for each series.
func metricsPass(t *testing.T, ts *testServer, series ...string) {
	t.Helper()
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, s := range series {
		if !strings.Contains(string(text), s) {
			t.Errorf("/metrics lacks %s", s)
		}
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install the Debian package prometheus (make deps)")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(string(text))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestChecksOffWithoutMonitor(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{})
	resp, err := http.Get(ts.URL + "/api/v1/checks")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(body), "--checks") {
		t.Errorf("GET /api/v1/checks without a monitor = %d %s; want 404 naming --checks", resp.StatusCode, body)
	}
}

func TestChecksCRUDAPI(t *testing.T) {
	t.Parallel()
	ts, st, _, _ := monitoredServer(t)
	v := openAPIValidator(t, ts)
	ctx := context.Background()
	admin, _, _ := st.CreateAPIKey(ctx, "ops", true)
	plain, _, _ := st.CreateAPIKey(ctx, "ci", false)
	url, _ := flipServer(t)
	as := func(key, method, path, body string, want int, hdr ...string) []byte {
		t.Helper()
		h := map[string]string{}
		if key != "" {
			h["Authorization"] = "Bearer " + key
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			h[hdr[i]] = hdr[i+1]
		}
		code, got := exchangeWith(t, v, ts, method, path, body, h)
		if code != want {
			t.Fatalf("%s %s = %d, want %d: %s", method, path, code, want, got)
		}
		return got
	}
	def := `{"name": "API Check", "kind": "http", "target": "` + url + `", "conditions": ["status == 200"],
		"interval": "1h", "group": "api", "labels": {"team": "dns"}, "public": true}`
	as("", "POST", "/api/v1/checks", def, 401)
	as(plain, "POST", "/api/v1/checks", def, 403)
	var c monitor.CheckView
	_ = json.Unmarshal(as(admin, "POST", "/api/v1/checks", def, 201), &c)
	if c.ID != "api-check" || c.Origin != "api" || c.Status != "pending" || c.Group != "api" {
		t.Fatalf("created %+v", c)
	}
	as(admin, "POST", "/api/v1/checks", def, 409)
	// Bad bodies name the field.
	for body, field := range map[string]string{
		`{"name": "x", "kind": "http", "target": "` + url + `", "interval": "10ms"}`:          "interval",
		`{"name": "x", "kind": "http", "target": "` + url + `", "options": {"nope": 1}}`:      "options.nope",
		`{"name": "x", "kind": "http", "target": "` + url + `", "conditions": ["status =="]}`: "conditions[0]",
		`{"name": "x", "kind": "http", "target": "` + url + `", "colour": "red"}`:             "colour",
		`{"name": "x", "kind": "http"}`: "target",
	} {
		var p Problem
		_ = json.Unmarshal(as(admin, "POST", "/api/v1/checks", body, 400), &p)
		if len(p.Errors) != 1 || p.Errors[0].Field != field {
			t.Errorf("POST %s: problem %+v; want errors[0].field %q", body, p, field)
		}
	}
	// It is scheduled: a run now is accepted.
	if got := as(admin, "POST", "/api/v1/checks/api-check/run", "", 202); !strings.Contains(string(got), `"queued":true`) {
		t.Errorf("run now of the API check: %s", got)
	}
	// The file's check is read-only here.
	var p Problem
	_ = json.Unmarshal(as(admin, "PUT", "/api/v1/checks/web-health", def, 409), &p)
	if !strings.Contains(p.Detail, "web.yaml") {
		t.Errorf("PUT of a file's check: %+v; want the file named", p)
	}
	as(admin, "DELETE", "/api/v1/checks/web-health", "", 409)
	as(admin, "PATCH", "/api/v1/checks/web-health", `{"group": "x"}`, 409, "Content-Type", "application/merge-patch+json")
	// PATCH and PUT change it; the definition is shown to admin keys only.
	c = monitor.CheckView{}
	_ = json.Unmarshal(as(admin, "PATCH", "/api/v1/checks/api-check", `{"interval": "30m", "labels": null}`, 200, "Content-Type", "application/merge-patch+json"), &c)
	if c.IntervalSeconds != 1800 || len(c.Labels) != 0 || c.Group != "api" {
		t.Errorf("patched %+v", c)
	}
	as(admin, "PATCH", "/api/v1/checks/api-check", `{"name": "other"}`, 400)
	c = monitor.CheckView{}
	_ = json.Unmarshal(as(admin, "PUT", "/api/v1/checks/api-check", strings.Replace(def, `"group": "api"`, `"group": "edge"`, 1), 200), &c)
	if c.Group != "edge" || c.IntervalSeconds != 3600 {
		t.Errorf("replaced %+v", c)
	}
	if got := as(admin, "GET", "/api/v1/checks/api-check", "", 200); !strings.Contains(string(got), `"definition":{`) {
		t.Errorf("admin GET lacks the definition: %s", got)
	}
	if got := as("", "GET", "/api/v1/checks/api-check", "", 200); strings.Contains(string(got), `"definition"`) {
		t.Errorf("anonymous GET shows the definition: %s", got)
	}
	// It is in the store: a restart (a new monitor on it) watches it.
	stored, err := st.APIChecks(ctx)
	if err != nil || len(stored) != 1 || !strings.Contains(string(stored[0].Body), `"edge"`) {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	as(admin, "DELETE", "/api/v1/checks/api-check", "", 204)
	as(admin, "DELETE", "/api/v1/checks/api-check", "", 404)
	if stored, _ := st.APIChecks(ctx); len(stored) != 0 {
		t.Errorf("stored after delete: %+v", stored)
	}
}
