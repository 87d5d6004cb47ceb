package agent_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dnsscience/dnsscience/internal/agent"
	"github.com/dnsscience/dnsscience/internal/bus"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/runner"
	"github.com/dnsscience/dnsscience/internal/store"
)

// rig is a server side on loopback: a store, a bus behind an HTTP server
// and a measurement service whose remote locations are the bus's agents.
type rig struct {
	st  *store.Store
	bus *bus.Bus
	svc *runner.Service
	url string
}

func newRig(t *testing.T, dbURL string) *rig {
	t.Helper()
	return newRigAt(t, dbURL)
}

func newRigTB(tb testing.TB) *rig { return newRigAt(tb, "") }

func newRigAt(t testing.TB, dbURL string) *rig {
	t.Helper()
	ctx := context.Background()
	if dbURL == "" {
		dbURL = "sqlite://" + filepath.Join(t.TempDir(), "db.sqlite")
	}
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := bus.Start(ctx, bus.Config{Store: st, Sweep: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	mux := http.NewServeMux()
	mux.Handle(bus.ConnectPath, b)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	svc, err := runner.New(runner.Config{Store: st, Env: &measure.Env{}, Remote: b, Workers: 256})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Shutdown(context.Background()) })
	return &rig{st: st, bus: b, svc: svc, url: hs.URL}
}

// startAgent runs an agent until the test ends; its Run error arrives on
// the returned channel.
func startAgent(t *testing.T, server, token string, hb time.Duration) (<-chan error, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done, finished := make(chan error, 1), make(chan struct{})
	lat, lon := 48.85, 2.35
	go func() {
		defer close(finished)
		done <- agent.Run(ctx, agent.Config{Server: server, Token: token, Env: &measure.Env{}, Heartbeat: hb,
			Display: "Paris", City: "Paris", Country: "FR", Latitude: &lat, Longitude: &lon, Version: "test"})
	}()
	t.Cleanup(func() { cancel(); <-finished })
	return done, cancel
}

// waitStatus waits until the location has the status, woken by the bus
// at each change of an agent's state.
func waitStatus(t *testing.T, r *rig, id, status string) runner.LocationStatus {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		changed := r.bus.Changed()
		for _, l := range r.svc.Locations() {
			if l.ID == id && l.Status == status {
				return l
			}
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("location %s never became %s: %+v", id, status, r.svc.Locations())
		}
	}
}

func drain(t *testing.T, svc *runner.Service, id string) *store.Measurement {
	t.Helper()
	_, events, cancel, live := svc.Subscribe(id)
	if live {
		for range events {
		}
	}
	cancel()
	m, err := svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAgentRunsMeasurementsBesideTheServer(t *testing.T) {
	t.Parallel()
	r := newRig(t, "")
	token, _, err := r.st.CreateAgent(context.Background(), "paris")
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, r, "paris", "offline")
	startAgent(t, r.url, token, 100*time.Millisecond)
	l := waitStatus(t, r, "paris", "online")
	if l.Name != "Paris" || l.Country != "FR" || l.Version != "test" || l.Latitude == nil || *l.Latitude != 48.85 || l.LastSeen.IsZero() {
		t.Errorf("location = %+v, want what the agent announced", l)
	}
	ms, err := r.svc.CreateEach(context.Background(), runner.Request{Kind: "geo", Target: "192.0.2.1,10.1.2.3", Locations: []string{"local", "paris"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		got := drain(t, r.svc, m.ID)
		if got.Status != "finished" || !strings.Contains(string(got.Result), "10.1.2.3") {
			t.Errorf("measurement at %v = %s %s %s, want finished with both addresses", got.Locations, got.Status, got.Error, got.Result)
		}
	}
	// Bad options are refused by the agent's own registry too, but the
	// service refuses them first.
	if _, err := r.svc.CreateEach(context.Background(), runner.Request{Kind: "geo", Target: "not an address!", Locations: []string{"paris"}}); err == nil {
		t.Error("a bad target was accepted")
	}
}

func TestRevokedAgentIsDisconnectedAndRefused(t *testing.T) {
	t.Parallel()
	r := newRig(t, "")
	ctx := context.Background()
	token, _, err := r.st.CreateAgent(ctx, "lyon")
	if err != nil {
		t.Fatal(err)
	}
	done, _ := startAgent(t, r.url, token, 100*time.Millisecond)
	waitStatus(t, r, "lyon", "online")
	if err := r.st.RevokeAgent(ctx, "lyon"); err != nil {
		t.Fatal(err)
	}
	if err := r.bus.Revoked("lyon"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, agent.ErrRefused) {
			t.Errorf("revoked agent's Run = %v, want ErrRefused", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the revoked agent is still connected after 15 s")
	}
	// Starting again with the revoked token is refused at once.
	err = agent.Run(ctx, agent.Config{Server: r.url, Token: token, Env: &measure.Env{}})
	if !errors.Is(err, agent.ErrRefused) {
		t.Errorf("Run with a revoked token = %v, want ErrRefused", err)
	}
	for _, l := range r.svc.Locations() {
		if l.ID == "lyon" {
			t.Errorf("revoked agent still listed: %+v", l)
		}
	}
}

// TestAgentPermissions connects with an agent's token as a plain NATS
// client and tries another agent's subjects: the server refuses them.
func TestAgentPermissions(t *testing.T) {
	t.Parallel()
	r := newRig(t, "")
	ctx := context.Background()
	tokenA, _, _ := r.st.CreateAgent(ctx, "a")
	if _, _, err := r.st.CreateAgent(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	nc, err := nats.Connect("nats://"+strings.TrimPrefix(r.url, "http://"), nats.Token(tokenA),
		nats.SetCustomDialer(agent.WebSocketDialer(t, r.url)), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for _, subject := range []string{bus.WorkSubject("b"), "agent.>"} {
		if _, err := nc.SubscribeSync(subject); err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errs:
			if !errors.Is(err, nats.ErrPermissionViolation) {
				t.Errorf("subscribe %s: %v, want a permission violation", subject, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("subscribe %s was allowed", subject)
		}
	}
	if err := nc.Publish(bus.EventSubject("b", "run1"), []byte("{}")); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("publish to b's events: %v, want a permission violation", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("publishing into another agent's events was allowed")
	}
}
