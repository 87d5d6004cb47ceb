package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/agent"
	"github.com/dnsscience/dnsscience/internal/bus"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/store"
)

// TestAgentsThroughTheAPI registers an agent through the admin API,
// connects it to the server's own URL, runs one request on two locations
// and revokes the agent through the API.
func TestAgentsThroughTheAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, store.SQLiteURL(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b, err := bus.Start(ctx, bus.Config{Store: st, Sweep: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	adminKey, _, _ := st.CreateAPIKey(ctx, "ops", true)
	ts := startServer(t, Config{Store: st, Agents: b})
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("X-API-Key", adminKey)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	if code, body := do("POST", "/api/v1/admin/agents", `{"name":"Not OK"}`); code != 400 || !strings.Contains(body, "lowercase") {
		t.Errorf("bad name: %d %s, want 400 saying what names are", code, body)
	}
	code, body := do("POST", "/api/v1/admin/agents", `{"name":"tokyo"}`)
	var added struct{ Token string }
	if code != 201 || json.Unmarshal([]byte(body), &added) != nil || !strings.HasPrefix(added.Token, "dsa_tokyo_") {
		t.Fatalf("add: %d %s", code, body)
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- agent.Run(actx, agent.Config{Server: ts.URL, Token: added.Token, Env: &measure.Env{}, Heartbeat: 2 * time.Second, City: "Tokyo"})
	}()
	for {
		changed := b.Changed()
		if tokyoOnline(do("GET", "/api/v1/locations", "")) {
			break
		}
		select {
		case <-changed:
		case err := <-done:
			t.Fatalf("agent stopped: %v", err)
		}
	}
	if _, body := do("GET", "/api/remote-locations", ""); !strings.Contains(body, `{"id":"tokyo","name":"tokyo","provider":"agent","lat":null,"lon":null`) {
		t.Errorf("legacy locations: %s", body)
	}
	code, body = do("POST", "/api/v1/measurements", `{"type":"geo","target":"192.0.2.9","locations":["local","tokyo"]}`)
	var many struct{ Measurements []store.Measurement }
	if code != 202 || json.Unmarshal([]byte(body), &many) != nil || len(many.Measurements) != 2 || many.Measurements[1].Locations[0] != "tokyo" {
		t.Fatalf("two locations: %d %s", code, body)
	}
	if code, body := do("POST", "/api/v1/measurements", `{"type":"geo","target":"192.0.2.9","locations":["tokyo"]}`); code != 202 || !strings.Contains(body, `"locations":["tokyo"]`) || strings.Contains(body, "measurements") {
		t.Errorf("one location keeps the single shape: %d %s", code, body)
	}
	if code, _ := do("DELETE", "/api/v1/admin/agents/tokyo", ""); code != 204 {
		t.Errorf("revoke: %d, want 204", code)
	}
	if err := <-done; !errors.Is(err, agent.ErrRefused) {
		t.Errorf("agent after revocation: %v, want ErrRefused", err)
	}
	if code, _ := do("DELETE", "/api/v1/admin/agents/nosuch", ""); code != 404 {
		t.Errorf("revoke unknown: %d, want 404", code)
	}
}

// tokyoOnline reports whether a GET /api/v1/locations answer lists the
// agent tokyo online (not just any location online: "local" always is).
func tokyoOnline(code int, body string) bool {
	var ls struct {
		Locations []struct{ ID, Status string }
	}
	if code != 200 || json.Unmarshal([]byte(body), &ls) != nil {
		return false
	}
	for _, l := range ls.Locations {
		if l.ID == "tokyo" {
			return l.Status == "online"
		}
	}
	return false
}
