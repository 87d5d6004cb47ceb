package cli

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestDebugListenServesProfiles: the profile index and the command line
// are served on the debug address, and nothing once the context ends.
func TestDebugListenServesProfiles(t *testing.T) {
	t.Parallel()
	if addr, err := startDebug(context.Background(), "", slog.New(slog.DiscardHandler)); addr != nil || err != nil {
		t.Fatalf("empty address: got %v, %v; want nothing served", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := startDebug(ctx, "127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr.String() + "/debug/pprof/"
	for path, want := range map[string]string{"": "goroutine", "cmdline": ".test"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, want 200 with %q:\n%.300s", base+path, resp.StatusCode, want, body)
		}
	}
	cancel()
	deadline := time.Now().Add(10 * time.Second)
	for { // polling: the listener closes once the server sees ctx end
		resp, err := http.Get(base)
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("profiles still served 10 s after the context ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
