//go:build linux

package server

import (
	"context"
	"encoding/json"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/testnet"
)

// Two agents whose routes to the destination differ, each in its own
// namespace, connecting out to the server in srv:
//
//	   srv (serve, Chromium)
//	  /   \
//	a1     a2   agents: Paris, Lisbon (configured coordinates)
//	|       |
//	r1     r2   routers: Frankfurt, Madrid (geo overrides)
//	  \   /
//	   dst (10.62.100.1, unplaced)
var twoAgentsTopology = testnet.Topology{
	Nodes: []testnet.NodeSpec{{Name: "srv"}, {Name: "a1"}, {Name: "a2"}, {Name: "r1"}, {Name: "r2"},
		{Name: "dst", Extra: []netip.Addr{netip.MustParseAddr("10.62.100.1")}}},
	Links: []testnet.LinkSpec{
		{A: "srv", B: "a1", Net4: testnet.Net4(62, 1)}, {A: "srv", B: "a2", Net4: testnet.Net4(62, 2)},
		{A: "a1", B: "r1", Net4: testnet.Net4(62, 3)}, {A: "r1", B: "dst", Net4: testnet.Net4(62, 4)},
		{A: "a2", B: "r2", Net4: testnet.Net4(62, 5)}, {A: "r2", B: "dst", Net4: testnet.Net4(62, 6)},
	},
}

// TestBrowserTwoAgentsOnVisualTrace: the real server in one namespace, two
// real agent processes in two others at different configured places;
// /visualtrace in Chromium traces the destination from both agents and
// draws two source markers in two colours, each with its own path through
// its own router. The screenshot is artifacts/web/visualtrace-two-agents.png.
func TestBrowserTwoAgentsOnVisualTrace(t *testing.T) {
	testnet.Skip(t)
	root, bin := browserSetup(t)
	n := testnet.Build(t, twoAgentsTopology)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	overrides := filepath.Join(dir, "overrides.yaml")
	writeFile(t, overrides, `overrides:
  - {cidr: 10.62.3.0/24, city: Frankfurt, country_code: DE, latitude: 50.11, longitude: 8.68, asn: 64520}
  - {cidr: 10.62.4.0/24, city: Frankfurt, country_code: DE, latitude: 50.11, longitude: 8.68, asn: 64520}
  - {cidr: 10.62.5.0/24, city: Madrid, country_code: ES, latitude: 40.42, longitude: -3.70, asn: 64530}
  - {cidr: 10.62.6.0/24, city: Madrid, country_code: ES, latitude: 40.42, longitude: -3.70, asn: 64530}
`)
	token := func(name string) string {
		out, err := exec.Command(bin, "agents", "add", name, "--data", data).Output()
		if err != nil {
			t.Fatalf("agents add %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	west, east := token("west"), token("east")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := n.Node("srv")
	const port = "18099"
	serve := srv.Command(ctx, bin, "serve", "--listen", "0.0.0.0:"+port, "--data", data, "--geo-data", dir, "--geo-overrides", overrides,
		"--upstream", "127.0.0.1:1", "--allow", "10.62.0.0/16", "--log-level", "warn")
	var logs syncBuffer
	serve.Stderr = &logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = serve.Wait() }()
	base := "http://127.0.0.1:" + port
	for i := 0; srv.Command(ctx, "curl", "-sf", base+"/health").Run() != nil; i++ {
		if i > 200 {
			t.Fatalf("server did not start:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond) // polling the port the child opens
	}
	agent := func(node, tok, name, lat, lon string) {
		url := "http://" + n.LinkAddr("srv", node, 4).String() + ":" + port
		cmd := n.Node(node).Command(ctx, bin, "agent", "--server", url, "--token", tok, "--name", name, "--city", name,
			"--lat", lat, "--lon", lon, "--allow", "10.62.0.0/16", "--heartbeat", "500ms",
			"--geo-data", dir, "--geo-overrides", overrides) // each agent places its own hops
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	agent("a1", west, "Paris", "48.85", "2.35")
	agent("a2", east, "Lisbon", "38.72", "-9.14")
	want := map[string]any{"locations": []map[string]string{
		{"id": "west", "name": "Paris", "via": n.LinkAddr("r1", "a1", 4).String()},
		{"id": "east", "name": "Lisbon", "via": n.LinkAddr("r2", "a2", 4).String()},
	}}
	b, _ := json.Marshal(want)
	runNode(t, srv.Command(ctx, "node", filepath.Join(root, "web/e2e/agents.mjs"), base, "10.62.100.1", string(b)), root, &logs)
}
