package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/alert"
	"github.com/dnsscience/dnsscience/internal/testbin"
)

// hookLog is a webhook receiver that answers 503 with Retry-After: 1 while
// down and records every request (key, event, status, signature check).
type hookLog struct {
	down atomic.Bool
	mu   sync.Mutex
	reqs []hookReq
}

type hookReq struct {
	key, event, status string
	accepted, signed   bool
}

func (h *hookLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var m struct{ Event, Status string }
	_ = json.Unmarshal(b, &m)
	hr := hookReq{key: r.Header.Get("Idempotency-Key"), event: m.Event, status: m.Status, accepted: !h.down.Load(),
		signed: r.Header.Get("X-Dnsscience-Signature") == alert.Sign("hook-secret", b)}
	h.mu.Lock()
	h.reqs = append(h.reqs, hr)
	h.mu.Unlock()
	if !hr.accepted {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
	}
}

func (h *hookLog) all() []hookReq {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookReq(nil), h.reqs...)
}

// waitFor polls cond (an external process's state) until it holds.
func waitFor(t *testing.T, what string, logs logSink, cond func() bool) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i > 1200 {
			t.Fatalf("timed out waiting for %s\n%s", what, logs.String())
		}
		time.Sleep(50 * time.Millisecond) // polling another process
	}
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// TestAlertsSurviveReceiverOutageAndKill9: the receiver is down, the check
// fails and recovers, the real server is killed with SIGKILL and started
// again, the receiver comes back: every state change is delivered, in
// order, and the repeated attempts of one carry one idempotency key.
func TestAlertsSurviveReceiverOutageAndKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := testbin.Path(t)
	var failing atomic.Bool
	target := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})}
	tln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = target.Serve(tln) }()
	defer target.Close()
	hook := &hookLog{}
	hook.down.Store(true)
	hln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hsrv := &http.Server{Handler: hook}
	go func() { _ = hsrv.Serve(hln) }()
	defer hsrv.Close()

	secretFile := filepath.Join(dir, "hook.key")
	if err := os.WriteFile(secretFile, []byte("hook-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	suite := filepath.Join(dir, "checks.yaml")
	if err := os.WriteFile(suite, []byte(fmt.Sprintf(`channels:
  - {name: hooks, type: webhook, url: "http://%s/hook", secret: "file:%s"}
checks:
  - {name: web, kind: http, target: "http://%s/", conditions: [status == 200], interval: 1s,
     failure_threshold: 1, success_threshold: 1, alerts: [hooks]}
`, hln.Addr(), secretFile, tln.Addr())), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	args := []string{"--data", filepath.Join(dir, "data"), "--allow", "127.0.0.0/8", "--upstream", "127.0.0.1:1", "--log-level", "info", "--checks", suite}
	var logs syncBuffer
	listen, first := startServe(ctx, t, bin, &logs, args...)
	base := "http://" + listen

	type notes struct {
		Notifications []struct {
			Event, Status string
			Key           string `json:"idempotency_key"`
			Attempts      int
		}
	}
	var ns notes
	// Up first, then down and back up while the receiver is down: both
	// notifications wait in the outbox, tried at least once.
	waitFor(t, "the check up", &logs, func() bool {
		var c struct{ Status string }
		return getJSON(base+"/api/v1/checks/web", &c) == nil && c.Status == "up"
	})
	failing.Store(true)
	waitFor(t, "the trigger tried", &logs, func() bool {
		return getJSON(base+"/api/v1/checks/web/notifications", &ns) == nil && len(ns.Notifications) == 1 && ns.Notifications[0].Attempts >= 1
	})
	failing.Store(false)
	waitFor(t, "the resolve written", &logs, func() bool {
		return getJSON(base+"/api/v1/checks/web/notifications", &ns) == nil && len(ns.Notifications) == 2
	})
	if err := first.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = first.Wait()
	if got := hook.all(); len(got) == 0 || got[0].accepted {
		t.Fatalf("before the restart the receiver saw %+v; want refused attempts only", got)
	}

	listen, second := startServe(ctx, t, bin, &logs, args...)
	defer func() { cancel(); _ = second.Wait() }()
	hook.down.Store(false)
	waitFor(t, "both delivered", &logs, func() bool {
		n := 0
		for _, r := range hook.all() {
			if r.accepted {
				n++
			}
		}
		return n >= 2
	})
	var accepted []hookReq
	keys := map[string]string{} // event -> key
	for _, r := range hook.all() {
		if !r.signed {
			t.Errorf("unsigned or badly signed request %+v", r)
		}
		if k, ok := keys[r.event]; ok && k != r.key {
			t.Errorf("%s sent with keys %s and %s", r.event, k, r.key)
		}
		keys[r.event] = r.key
		if r.accepted {
			accepted = append(accepted, r)
		}
	}
	if len(accepted) != 2 || accepted[0].event != "trigger" || accepted[0].status != "down" || accepted[1].event != "resolve" || accepted[1].status != "up" {
		t.Fatalf("delivered %+v; want the trigger, then the resolve", accepted)
	}
	if err := getJSON("http://"+listen+"/api/v1/checks/web/notifications", &ns); err != nil {
		t.Fatal(err)
	}
	for _, n := range ns.Notifications {
		if n.Status != "delivered" {
			t.Errorf("outbox after delivery: %+v", ns)
		}
	}
	if strings.Contains(logs.String(), "hook-secret") {
		t.Error("the log shows the channel's secret")
	}
}
