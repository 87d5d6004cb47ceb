//go:build linux

package server

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestMonitorPagesInChromium runs `dnsscience serve --checks` against a
// loopback HTTP target that the browser script flips between healthy and
// failing (GET /flip), and drives the dashboard (sparklines, filters), a
// check page (history chart, Run now with no key, a plain key and an admin
// key made by `dnsscience apikey create`) and the status page in Chromium
// (web/e2e/monitor.mjs), saving screenshots.
func TestMonitorPagesInChromium(t *testing.T) {
	t.Parallel()
	root, bin := browserSetup(t)
	var failing atomic.Bool
	tln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/flip" {
			failing.Store(!failing.Load())
			w.Header().Set("Access-Control-Allow-Origin", "*")
			return
		}
		if failing.Load() {
			http.Error(w, "failing for a test", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})}
	go func() { _ = target.Serve(tln) }()
	defer target.Close()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "checks"), 0o750); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "checks", "web.yaml"), `name: web
defaults: {interval: 1s, group: edge, public: true, failure_threshold: 2, success_threshold: 2}
checks:
  - name: web health
    kind: http
    target: http://`+tln.Addr().String()+`/health
    conditions: [status == 200]
    labels: {layer: http}
  - name: web port
    kind: tcp
    target: `+tln.Addr().String()+`
    labels: {layer: tcp}
  - name: web daily
    kind: tcp
    target: `+tln.Addr().String()+`
    interval: 24h
    group: batch
    public: false
`)
	data := filepath.Join(dir, "data")
	adminKey, plainKey := createKey(t, bin, data, "ops", "--admin"), createKey(t, bin, data, "ci")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs strings.Builder
	listen, srv := startServe(ctx, t, bin, &logs, "--data", data,
		"--checks", filepath.Join(dir, "checks"), "--allow", "127.0.0.0/8", "--geo-data", dir)
	defer func() { cancel(); _ = srv.Wait() }()
	runNode(t, exec.CommandContext(ctx, "node", filepath.Join(root, "web/e2e/monitor.mjs"), "http://"+listen, "http://"+tln.Addr().String()+"/flip",
		adminKey, plainKey), root, &logs)
}

// createKey makes an API key in the store at data with `dnsscience apikey
// create NAME [flags]` and returns it.
func createKey(t *testing.T, bin, data, name string, flags ...string) string {
	t.Helper()
	out, err := exec.Command(bin, append([]string{"apikey", "create", name, "--data", data}, flags...)...).Output()
	if err != nil {
		t.Fatalf("apikey create %s: %v", name, err)
	}
	key := strings.TrimSpace(string(out))
	if !strings.HasPrefix(key, "dss_") {
		t.Fatalf("apikey create %s printed %q, want a dss_ key", name, key)
	}
	return key
}
