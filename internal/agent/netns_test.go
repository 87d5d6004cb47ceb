//go:build linux

package agent_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/agent"
	"github.com/dnsscience/dnsscience/internal/bus"
	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/runner"
	"github.com/dnsscience/dnsscience/internal/store"
	"github.com/dnsscience/dnsscience/internal/testnet"
)

// Helper process: an agent in a namespace (the test binary run again
// under `ip netns exec`), so that killing it is killing a real process.
const helperEnv = "DNSSCIENCE_TEST_AGENT"

func TestHelperAgentProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("the agent helper process runs only when the namespace tests start it")
	}
	cfg := agent.Config{Server: os.Getenv("AGENT_SERVER"), Token: os.Getenv("AGENT_TOKEN"),
		Env: &measure.Env{}, Heartbeat: time.Second, Version: "helper"} // offline after 3 s of silence: a busy machine never looks like a lost agent
	if lat, lon := os.Getenv("AGENT_LAT"), os.Getenv("AGENT_LON"); lat != "" {
		la, _ := strconv.ParseFloat(lat, 64)
		lo, _ := strconv.ParseFloat(lon, 64)
		cfg.Latitude, cfg.Longitude, cfg.City = &la, &lo, os.Getenv("AGENT_CITY")
	}
	err := agent.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
}

// Two agents whose routes to the destination differ:
//
//	   srv (the server's HTTP listener)
//	  /   \
//	a1     a2 (outbound only)
//	|       |
//	r1     r2
//	  \   /
//	   dst (10.61.100.1) — hole (drops everything; 10.61.101.1)
var agentsTopology = testnet.Topology{
	Nodes: []testnet.NodeSpec{{Name: "srv"}, {Name: "a1"}, {Name: "a2"}, {Name: "r1"}, {Name: "r2"},
		{Name: "dst", Extra: []netip.Addr{netip.MustParseAddr("10.61.100.1")}},
		{Name: "hole", DropAll: true, Extra: []netip.Addr{netip.MustParseAddr("10.61.101.1")}}},
	Links: []testnet.LinkSpec{
		{A: "srv", B: "a1", Net4: testnet.Net4(61, 1)}, {A: "srv", B: "a2", Net4: testnet.Net4(61, 2)},
		{A: "a1", B: "r1", Net4: testnet.Net4(61, 3)}, {A: "r1", B: "dst", Net4: testnet.Net4(61, 4)},
		{A: "a2", B: "r2", Net4: testnet.Net4(61, 5)}, {A: "r2", B: "dst", Net4: testnet.Net4(61, 6)},
		{A: "dst", B: "hole", Net4: testnet.Net4(61, 7)},
	},
}

type netRig struct {
	net *testnet.Network
	st  *store.Store
	bus *bus.Bus
	svc *runner.Service
	url string
}

// newNetRig serves the bus on a listener opened in the srv namespace.
func newNetRig(t *testing.T, tweak ...func(*bus.Config)) *netRig {
	testnet.Skip(t)
	n := testnet.Build(t, agentsTopology)
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bc := bus.Config{Store: st, Sweep: 50 * time.Millisecond}
	for _, f := range tweak {
		f(&bc)
	}
	b, err := bus.Start(ctx, bc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	srv := n.Node("srv")
	var ln net.Listener
	if err := srv.Do(func() (err error) { ln, err = net.Listen("tcp", srv.Addr4().String()+":8080"); return err }); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(bus.ConnectPath, b)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	svc, err := runner.New(runner.Config{Store: st, Env: &measure.Env{}, Remote: b})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Shutdown(context.Background()) })
	return &netRig{net: n, st: st, bus: b, svc: svc, url: "http://" + ln.Addr().String()}
}

// agentIn starts the helper agent process in a node; the process is
// killed when the test ends.
func (r *netRig) agentIn(t *testing.T, node, name string, env ...string) *exec.Cmd {
	t.Helper()
	token, _, err := r.st.CreateAgent(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	cmd := r.net.Node(node).Command(context.Background(), os.Args[0], "-test.run=^TestHelperAgentProcess$")
	cmd.Env = append(append(os.Environ(), helperEnv+"=1", "AGENT_SERVER="+r.url, "AGENT_TOKEN="+token), env...)
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitStatus(t, &rig{bus: r.bus, svc: r.svc}, name, "online")
	return cmd
}

// outboundOnly lets the node open connections but accept none.
func outboundOnly(t *testing.T, n *testnet.Network, node string) {
	t.Helper()
	rules := "table inet agentfw {\n chain input {\n type filter hook input priority 0; policy drop;\n" +
		" ct state established,related accept\n iif lo accept\n }\n}\n"
	cmd := exec.Command("ip", "netns", "exec", n.Node(node).NS, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft in %s: %v: %s", node, err, out)
	}
}

func TestTracesFromTwoAgentsTakeTheirOwnPaths(t *testing.T) {
	t.Parallel()
	r := newNetRig(t)
	outboundOnly(t, r.net, "a2")
	r.agentIn(t, "a1", "west")
	r.agentIn(t, "a2", "east")
	// a2 accepts no connection: a TCP connect to it from srv is dropped
	// (no listener would answer with a reset; the firewall answers nothing).
	if err := r.net.Node("srv").Do(func() error {
		c, err := net.DialTimeout("tcp", r.net.LinkAddr("a2", "srv", 4).String()+":22", 300*time.Millisecond)
		if err == nil {
			c.Close()
			return errors.New("a2 accepted an inbound connection")
		}
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			return fmt.Errorf("connecting to a2: %v, want a timeout (the SYN dropped)", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ms, err := r.svc.CreateEach(context.Background(), runner.Request{Kind: "trace", Target: "10.61.100.1",
		Options: []byte(`{"no_dns":true,"queries":1,"timeout_ms":500,"max_hops":6}`), Locations: []string{"west", "east"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{ // location → the router it must cross, the one it must not
		"west": {r.net.LinkAddr("r1", "a1", 4).String(), r.net.LinkAddr("r2", "a2", 4).String()},
		"east": {r.net.LinkAddr("r2", "a2", 4).String(), r.net.LinkAddr("r1", "a1", 4).String()},
	}
	for _, m := range ms {
		// Hop events are checked when the run is still going when watched
		// (the killed-agent test needs them in any case).
		hops := 0
		replay, events, cancel, live := r.svc.Subscribe(m.ID)
		for _, ev := range replay {
			if ev.Type == "hop" {
				hops++
			}
		}
		if live {
			for ev := range events {
				if ev.Type == "hop" {
					hops++
				}
			}
		}
		cancel()
		got, err := r.svc.Get(context.Background(), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		loc := got.Locations[0]
		res := string(got.Result)
		if got.Status != "finished" || !strings.Contains(res, `"`+want[loc][0]+`"`) || strings.Contains(res, `"`+want[loc][1]+`"`) ||
			!strings.Contains(res, `"10.61.100.1"`) || (live && hops < 2) {
			t.Errorf("trace from %s: %s %s, %d hop events; want finished through %s (not %s) to 10.61.100.1: %s",
				loc, got.Status, got.Error, hops, want[loc][0], want[loc][1], res)
		}
	}
}

func TestAgentKilledMidTraceFailsItsPart(t *testing.T) {
	t.Parallel()
	r := newNetRig(t)
	doomed := r.agentIn(t, "a1", "doomed")
	r.agentIn(t, "a2", "steady")
	// The hole answers nothing: the trace goes on to max_hops, 500 ms a hop.
	ms, err := r.svc.CreateEach(context.Background(), runner.Request{Kind: "trace", Target: "10.61.101.1",
		Options: []byte(`{"no_dns":true,"queries":1,"timeout_ms":500,"max_hops":8}`), Locations: []string{"doomed", "steady"}})
	if err != nil {
		t.Fatal(err)
	}
	replay, events, cancel, live := r.svc.Subscribe(ms[0].ID)
	defer cancel()
	if !live {
		t.Fatal("the trace at the doomed agent ended before it could be watched")
	}
	midTrace := false
	for _, ev := range replay {
		midTrace = midTrace || ev.Type == "hop"
	}
	for !midTrace {
		ev, ok := <-events
		if !ok {
			t.Fatal("the trace at the doomed agent ended before its first hop")
		}
		midTrace = ev.Type == "hop"
	}
	if err := doomed.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for range events {
	}
	got, err := r.svc.Get(context.Background(), ms[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "failed" || !strings.Contains(got.Error, "agent doomed was lost during the measurement: no heartbeat since") {
		t.Errorf("killed agent's part: %s %q, want failed because the agent was lost", got.Status, got.Error)
	}
	_, events2, cancel2, live2 := r.svc.Subscribe(ms[1].ID)
	defer cancel2()
	if live2 {
		for range events2 {
		}
	}
	other, err := r.svc.Get(context.Background(), ms[1].ID)
	if err != nil || other.Status != "finished" {
		t.Errorf("the other agent's part: %+v, %v; want finished", other, err)
	}
}

// TestAgentPlacedFromGeoData: an agent announcing no coordinates is placed
// from the server's geo data for the address it connects from (here an
// operator override for the namespaces' network), and /api/v1/locations
// (the service's Locations) reports it there; one with coordinates keeps
// its own.
func TestAgentPlacedFromGeoData(t *testing.T) {
	t.Parallel()
	overrides := filepath.Join(t.TempDir(), "overrides.yaml")
	if err := os.WriteFile(overrides, []byte("overrides:\n  - cidr: 10.61.0.0/16\n    city: Lyon\n    country_code: FR\n    latitude: 45.76\n    longitude: 4.84\n    asn: 64512\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := geo.Open(geo.Config{Overrides: overrides})
	if err != nil {
		t.Fatal(err)
	}
	r := newNetRig(t, func(c *bus.Config) { c.Geo = func() *geo.DB { return g } })
	r.agentIn(t, "a1", "placed")
	r.agentIn(t, "a2", "pinned", "AGENT_LAT=-33.87", "AGENT_LON=151.21", "AGENT_CITY=Sydney")
	for _, l := range r.svc.Locations() {
		switch l.ID {
		case "placed":
			if l.Latitude == nil || l.Longitude == nil || *l.Latitude != 45.76 || *l.Longitude != 4.84 || l.City != "Lyon" || l.ASN != 64512 {
				t.Errorf("agent without coordinates: %+v (lat %v lon %v), want placed in Lyon (45.76, 4.84), AS64512 from the geo data", l, l.Latitude, l.Longitude)
			}
		case "pinned":
			if l.Latitude == nil || *l.Latitude != -33.87 || l.City != "Sydney" {
				t.Errorf("agent with coordinates: %+v, want its own (Sydney)", l)
			}
		}
	}
}
