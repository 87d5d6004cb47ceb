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
// failing (GET /flip), and drives the dashboard, a check page and the
// status page in Chromium (web/e2e/monitor.mjs), saving screenshots.
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
  - name: web port
    kind: tcp
    target: `+tln.Addr().String()+`
`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs strings.Builder
	listen, srv := startServe(ctx, t, bin, &logs, "--data", filepath.Join(dir, "data"),
		"--checks", filepath.Join(dir, "checks"), "--allow", "127.0.0.0/8", "--geo-data", dir)
	defer func() { cancel(); _ = srv.Wait() }()
	runNode(t, exec.CommandContext(ctx, "node", filepath.Join(root, "web/e2e/monitor.mjs"), "http://"+listen, "http://"+tln.Addr().String()+"/flip"), root, &logs)
}
