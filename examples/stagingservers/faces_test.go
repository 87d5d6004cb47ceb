package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/cli"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/server"
	"github.com/dnsscience/dnsscience/internal/store"
)

// TestBrokenEndpointsInASuite: the same verdicts as TestBrokenEndpoints,
// from a suite (the registry's ws and diagnose options).
func TestBrokenEndpointsInASuite(t *testing.T) {
	t.Parallel()
	vars := startServers(t)
	base := "wss://api-staging.example.test:" + vars["STAGING_PORT"]
	suite := fmt.Sprintf(`defaults: {ca: %q, timeout: 5s}
checks:
  - {name: ws ok, kind: ws, target: "%[2]s/ws", options: {connect_to: 127.0.0.1}}
  - {name: ws crash, kind: ws, target: "%[2]s/ws-crash", options: {connect_to: 127.0.0.1}}
  - {name: ws crash later, kind: ws, target: "%[2]s/ws-crash-later", options: {connect_to: 127.0.0.1, linger: 3s}, conditions: ["ws.close_code != 1011"]}
  - {name: ws crash later unseen, kind: ws, target: "%[2]s/ws-crash-later", options: {connect_to: 127.0.0.1, no_linger: true}}
  - {name: ws bye, kind: ws, target: "%[2]s/ws-bye", options: {connect_to: 127.0.0.1}, conditions: [ok, 'ws.closed_by == "server"', "ws.close_code == 1000"]}
  - {name: ws refuse, kind: ws, target: "%[2]s/ws-refuse", options: {connect_to: 127.0.0.1}}
  - {name: down, kind: diagnose, target: "https://api-staging.example.test:%[3]s/down", options: {no_system: true, resolvers: [%[4]q]}, conditions: ['diagnose.failed_layer != "http"']}
`, vars["STAGING_CA"], base, vars["STAGING_PORT"], vars["RESOLVER_A"])
	path := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(path, []byte(suite), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli.Run(ctx, []string{"dnsscience", "check", path, "--json"}, strings.NewReader(""), &out, &errOut)
	var report struct {
		Results []struct {
			Name  string `json:"name"`
			Pass  bool   `json:"pass"`
			Error string `json:"error"`
		} `json:"results"`
	}
	if err := json.Unmarshal(out.Bytes(), &report); err != nil {
		t.Fatalf("report: %v\n%s%s", err, out.String(), errOut.String())
	}
	want := map[string]bool{"ws ok": true, "ws crash": false, "ws crash later": false, "ws crash later unseen": true,
		"ws bye": true, "ws refuse": false, "down": false}
	for _, r := range report.Results {
		if w, ok := want[r.Name]; !ok || w != r.Pass {
			t.Errorf("%s: pass %v (%s), want %v", r.Name, r.Pass, r.Error, w)
		}
		delete(want, r.Name)
	}
	if len(want) > 0 {
		t.Errorf("no results for %v", want)
	}
}

// TestBrokenEndpointsThroughTheAPI: the API's diagnose takes a private CA
// (PEM) and a WebSocket linger, and gives the same verdicts.
func TestBrokenEndpointsThroughTheAPI(t *testing.T) {
	t.Parallel()
	vars := startServers(t)
	st, err := store.Open(context.Background(), store.SQLiteURL(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	up, err := dnsq.ParseServer(vars["RESOLVER_A"])
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: st, Policy: netpolicy.AllowAll(), Upstream: []dnsq.Server{up}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	pem, err := os.ReadFile(vars["STAGING_CA"])
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := json.Marshal(string(pem))
	site := "https://api-staging.example.test:" + vars["STAGING_PORT"]
	for _, c := range []struct {
		body      string
		ok        bool
		failLayer string
	}{
		{`{"type":"diagnose","target":"` + site + `/health","options":{"ca":` + string(ca) + `}}`, true, ""},
		{`{"type":"diagnose","target":"` + site + `/health"}`, false, "tls"},
		{`{"type":"diagnose","target":"wss://api-staging.example.test:` + vars["STAGING_PORT"] + `/ws-crash-later","options":{"ca":` + string(ca) + `,"linger":"3s"}}`, false, "ws"},
	} {
		m := postAndWait(t, ts.URL, c.body)
		var res struct {
			OK      bool `json:"ok"`
			Verdict *struct {
				Layer string `json:"layer"`
			} `json:"verdict"`
		}
		if err := json.Unmarshal(m.Result, &res); err != nil || m.Status != "finished" {
			t.Fatalf("%s: %s %s %v", c.body, m.Status, m.Error, err)
		}
		if res.OK != c.ok || !c.ok && (res.Verdict == nil || res.Verdict.Layer != c.failLayer) {
			t.Errorf("%s: ok=%v verdict %+v, want ok=%v failing %q", c.body, res.OK, res.Verdict, c.ok, c.failLayer)
		}
	}
}

// postAndWait creates a measurement and reads its live stream to the
// final "result" event: the stored measurement.
func postAndWait(t *testing.T, base, body string) store.Measurement {
	t.Helper()
	resp, err := http.Post(base+"/api/v1/measurements", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var m store.Measurement
	_ = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("%s: %d", body, resp.StatusCode)
	}
	stream, err := http.Get(base + "/api/v1/measurements/" + m.ID + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	sc := bufio.NewScanner(stream.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	result := false
	for sc.Scan() {
		line := sc.Text()
		if line == "event: result" {
			result = true
		} else if data, ok := strings.CutPrefix(line, "data: "); ok && result {
			if err := json.Unmarshal([]byte(data), &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("%s: the stream ended without a result", body)
	return m
}
