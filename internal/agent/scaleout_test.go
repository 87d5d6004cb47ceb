package agent_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nuid"

	"github.com/dnsscience/dnsscience/internal/agent"
	"github.com/dnsscience/dnsscience/internal/bus"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/pgtest"
	"github.com/dnsscience/dnsscience/internal/runner"
	"github.com/dnsscience/dnsscience/internal/store"
)

// sharedNATS is the machine's NATS server (.ci/run starts it).
const sharedNATS = "nats://127.0.0.1:4222"

// freshPostgres returns a DSN of a new schema of the test database; it
// skips t when PostgreSQL or NATS is missing.
func freshPostgres(t *testing.T) string {
	if c, err := net.DialTimeout("tcp", "127.0.0.1:4222", time.Second); err != nil {
		t.Skipf("no NATS server at 127.0.0.1:4222 (%v): the scale-out test needs one; .ci/run starts it", err)
	} else {
		c.Close()
	}
	return pgtest.URL(t, "dnss_agents")
}

// server is one serve process's share: its store handle, bus (bridged to
// the shared NATS), HTTP endpoint and service.
func startServer(t *testing.T, dsn string) *rig {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	b, err := bus.Start(ctx, bus.Config{Store: st, External: sharedNATS, Sweep: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	mux := http.NewServeMux()
	mux.Handle(bus.ConnectPath, b)
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	svc, err := runner.New(runner.Config{Store: st, Env: &measure.Env{}, Remote: b, ServerID: "srv-" + nuid.Next()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Shutdown(context.Background()) })
	return &rig{st: st, bus: b, svc: svc, url: hs.URL}
}

// TestTwoServersShareAgentsAndMeasurements: an agent connected to server
// A runs a measurement created on server B; both list it online, both read
// the measurement, and revoking it on B disconnects it from A.
func TestTwoServersShareAgentsAndMeasurements(t *testing.T) {
	t.Parallel()
	dsn := freshPostgres(t)
	a, b := startServer(t, dsn), startServer(t, dsn)
	name := "scale-" + time.Now().Format("150405.000")
	name = strings.ReplaceAll(name, ".", "")
	token, _, err := a.st.CreateAgent(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	done, _ := startAgent(t, a.url, token, 100*time.Millisecond)
	waitStatus(t, a, name, "online")
	waitStatus(t, b, name, "online")
	ms, err := b.svc.CreateEach(context.Background(), runner.Request{Kind: "geo", Target: "192.0.2.7", Locations: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	got := drain(t, b.svc, ms[0].ID)
	if got.Status != "finished" || !strings.Contains(string(got.Result), "192.0.2.7") {
		t.Fatalf("measurement created on B, run by A's agent: %s %s %s", got.Status, got.Error, got.Result)
	}
	fromA, err := a.svc.Get(context.Background(), ms[0].ID)
	if err != nil || fromA.Status != "finished" {
		t.Errorf("server A reads %+v, %v; want the finished measurement", fromA, err)
	}
	if err := b.st.RevokeAgent(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	if err := b.bus.Revoked(name); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, agent.ErrRefused) {
			t.Errorf("agent after revocation on the other server: %v, want ErrRefused", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("revoking on server B did not disconnect the agent from server A")
	}
}
