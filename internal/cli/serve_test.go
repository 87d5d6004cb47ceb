package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeStartsAndStopsCleanly runs `dnsscience serve` in-process with a
// config file, checks /health and /ready, and stops it with the context
// (as SIGTERM does).
func TestServeStartsAndStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	conf := filepath.Join(dir, "dnsscience.yaml")
	yaml := fmt.Sprintf("listen: %s\ndata: %s\nupstream: [127.0.0.1:53]\nretention: 7d\nlocations:\n  - {id: fra, name: Frankfurt, provider: test, latitude: 50.1, longitude: 8.7}\n", addr, filepath.Join(dir, "data"))
	if err := os.WriteFile(conf, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"dnsscience", "serve", "--config", conf, "--geo-data", dir}, strings.NewReader(""), &out, &errb)
	}()
	var health map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/health")
		if err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&health)
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server did not come up: %v\n%s", err, errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if health["status"] != "ok" {
		t.Errorf("/health: %v", health)
	}
	resp, err := http.Get("http://" + addr + "/api/remote-locations")
	if err != nil {
		t.Fatal(err)
	}
	var locs struct {
		Locations []struct{ ID string } `json:"locations"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&locs)
	resp.Body.Close()
	if len(locs.Locations) != 1 || locs.Locations[0].ID != "fra" {
		t.Errorf("locations from the config file: %+v", locs)
	}
	// No geo data in the directory given: /ready says so with 503.
	resp, err = http.Get("http://" + addr + "/ready")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/ready without geo data: %d, want 503", resp.StatusCode)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after shutdown; stderr:\n%s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
	if !strings.Contains(out.String(), "serving on http://"+addr) || !strings.Contains(errb.String(), `"msg":"shutting down"`) {
		t.Errorf("stdout %q stderr %q", out.String(), errb.String())
	}
}

func TestServeBadConfig(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "bad.yaml")
	_ = os.WriteFile(conf, []byte("listen: :1\ncolour: red\n"), 0o644)
	_, stderr, code := runCLI(t, "serve", "--config", conf)
	if code != ExitUsage || !strings.Contains(stderr, "field colour not found") {
		t.Errorf("exit %d stderr %q, want 2 naming the unknown field", code, stderr)
	}
	_, stderr, code = runCLI(t, "serve", "--retention", "forever")
	if code != ExitUsage || !strings.Contains(stderr, "--retention") {
		t.Errorf("exit %d stderr %q", code, stderr)
	}
}
