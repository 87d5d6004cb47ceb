//go:build linux

package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/testnet"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

// TestTraceShowsRateLimitsAndPlacements: a router that answers one probe a
// second is shown rate-limited, an override that puts a hop in Sydney from
// a source in Frankfurt with a sub-millisecond RTT is implausible, a
// plausible one is shown as it is, and an anycast destination the bound
// does not pin is unplaced; the same in the report and the JSON.
func TestTraceShowsRateLimitsAndPlacements(t *testing.T) {
	testnet.SkipWithoutNft(t)
	topo := testnet.Chain(34, 3)
	topo.Spec("r2").ICMPLimit = "1/second burst 1 packets"
	n := testnet.Build(t, topo)
	src, dst := n.Node("src"), n.Node("dst").Addr4().String()
	ov := writeFile(t, "overrides.yaml", `overrides:
  - {cidr: `+n.LinkAddr("r1", "src", 4).String()+`/32, city: Sydney, country_code: AU, latitude: -33.87, longitude: 151.21}
  - {cidr: `+n.LinkAddr("r3", "r2", 4).String()+`/32, city: Frankfurt, country_code: DE, latitude: 50.1, longitude: 8.7}
  - {cidr: `+dst+`/32, label: lab anycast, city: Sydney, country_code: AU, latitude: -33.87, longitude: 151.21, anycast: true}
`)
	args := []string{"trace", dst, "-n", "--geo-data", filepath.Dir(ov), "--geo-overrides", ov, "--origin", "50.11,8.68"}
	code, out, errOut := runIn(t, src, args...)
	if code != ExitOK {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("want a header and 4 hop lines, got:\n%s", out)
	}
	for i, want := range []string{"Sydney AU?? implausible: RTT allows", "(rate-limited: 2 unanswered, not loss)", "[Frankfurt DE]", "anycast, nearest site unknown"} {
		if !strings.Contains(lines[i+1], want) {
			t.Errorf("hop %d line %q, want it to say %q", i+1, lines[i+1], want)
		}
	}
	// Right after, the router's limit is spent: it answers only the retry,
	// one second later, and is rate-limited rather than silent.
	code, out, _ = runIn(t, src, append(args, "--json", "--retry-pause", "1s")...)
	var res traceroute.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != ExitOK || len(res.Hops) != 4 {
		t.Fatalf("exit %d, JSON %v:\n%s", code, err, out)
	}
	h1, h2, h3, h4 := res.Hops[0].Addrs[0], res.Hops[1], res.Hops[2].Addrs[0], res.Hops[3].Addrs[0]
	if h1.Placement != traceroute.PlacementImplausible || !h1.Located || h1.BoundKM <= 0 || h1.BoundKM > 100 {
		t.Errorf("hop 1 %+v: want implausible, still located, with a bound under 100 km", h1)
	}
	if h2.State != traceroute.StateRateLimited || h2.Stats.Received != 1 || h2.Stats.LossPct != 0 || !h2.Probes[len(h2.Probes)-1].Retry {
		t.Errorf("hop 2 state %q, stats %+v: want rate-limited, answered by the retry, no loss", h2.State, h2.Stats)
	}
	if h3.Placement != traceroute.PlacementPlausible || h3.Lat != 50.1 || h3.City != "Frankfurt" {
		t.Errorf("hop 3 %+v: want plausible, unchanged", h3)
	}
	if h4.Placement != traceroute.PlacementAnycastUnplaced || !h4.Anycast || h4.Located {
		t.Errorf("hop 4 %+v: want anycast, unplaced", h4)
	}
}
