package enrich

import (
	"math"
	"net/netip"
	"time"

	"github.com/dnsscience/dnsscience/internal/traceroute"
)

// LatLon is a point on the Earth in degrees.
type LatLon struct {
	Lat, Lon float64
}

// The speed-of-light check. Light in fibre covers about 200 km a
// millisecond, so a round trip of r ms reaches at most KMPerRTTMS·r km
// away. A placement farther from the source than that (plus ToleranceKM,
// the slack of city-level coordinates) is impossible; so is one that makes
// source → previous placed hop → hop → source longer than 2·KMPerRTTMS·r
// (the probe passed the previous hop on its way out). Without a source,
// only the previous hop counts: the hop is at most KMPerRTTMS·r from it.
// An anycast address is placed only when the bound pins it near the source
// (at most AnycastPinKM, where one site of an operator serves a region)
// and its data location is inside the bound; otherwise it is unplaced.
const (
	KMPerRTTMS   = 100.0
	ToleranceKM  = 50.0
	AnycastPinKM = 200.0
	earthKM      = 6371.0
)

// placer judges the placements of a trace's hops in TTL order.
type placer struct {
	source *LatLon
	prev   *LatLon // the last hop with one plausibly placed address
}

// hop judges every address of h, then remembers h as the previous placed
// hop when it has one plausible, non-anycast place.
func (p *placer) hop(h *traceroute.Hop) {
	for i := range h.Addrs {
		a := &h.Addrs[i]
		p.judge(a, minRTT(h, a.Addr))
	}
	if len(h.Addrs) == 1 && h.Addrs[0].Placement == traceroute.PlacementPlausible && !h.Addrs[0].Anycast {
		p.prev = &LatLon{h.Addrs[0].Lat, h.Addrs[0].Lon}
	}
}

// judge sets the bound and the placement of a, answered in rtt at best.
func (p *placer) judge(a *traceroute.HopAddr, rtt time.Duration) {
	a.BoundKM, a.Placement = 0, ""
	ms := float64(rtt.Microseconds()) / 1000
	if rtt > 0 {
		a.BoundKM = math.Round(ms*KMPerRTTMS*10) / 10
	}
	if a.Anycast {
		p.anycast(a)
		return
	}
	if !a.Located {
		return
	}
	a.Placement = traceroute.PlacementPlausible
	if rtt <= 0 {
		return
	}
	here := LatLon{a.Lat, a.Lon}
	switch {
	case p.source != nil && distanceKM(*p.source, here) > a.BoundKM+ToleranceKM:
		a.Placement = traceroute.PlacementImplausible
	case p.source != nil && p.prev != nil &&
		distanceKM(*p.source, *p.prev)+distanceKM(*p.prev, here)+distanceKM(here, *p.source) > 2*(a.BoundKM+ToleranceKM):
		a.Placement = traceroute.PlacementImplausible
	case p.source == nil && p.prev != nil && distanceKM(*p.prev, here) > a.BoundKM+ToleranceKM:
		a.Placement = traceroute.PlacementImplausible
	}
}

// anycast places a only when the bound pins it to one site near the
// source; else it is unplaced, its data location dropped (it names one
// site of many, often the operator's head office).
func (p *placer) anycast(a *traceroute.HopAddr) {
	if a.Located && p.source != nil && a.BoundKM > 0 && a.BoundKM <= AnycastPinKM &&
		distanceKM(*p.source, LatLon{a.Lat, a.Lon}) <= a.BoundKM+ToleranceKM {
		a.Placement = traceroute.PlacementPlausible
		return
	}
	a.Placement = traceroute.PlacementAnycastUnplaced
	a.Located, a.Lat, a.Lon, a.City, a.Country = false, 0, 0, "", ""
}

// minRTT is the smallest RTT of the hop's probes answered by addr, or the
// hop's best RTT when the latest round holds none from it.
func minRTT(h *traceroute.Hop, addr netip.Addr) time.Duration {
	var best time.Duration
	for _, pr := range h.Probes {
		if pr.Timeout || pr.Addr != addr {
			continue
		}
		rtt := pr.RTT
		if rtt <= 0 {
			rtt = time.Duration(pr.RTTMS * float64(time.Millisecond))
		}
		if rtt > 0 && (best == 0 || rtt < best) {
			best = rtt
		}
	}
	if best == 0 && h.Stats.BestMS > 0 {
		best = time.Duration(h.Stats.BestMS * float64(time.Millisecond))
	}
	return best
}

// distanceKM is the great-circle distance (haversine).
func distanceKM(a, b LatLon) float64 {
	const rad = math.Pi / 180
	dLat, dLon := (b.Lat-a.Lat)*rad, (b.Lon-a.Lon)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthKM * math.Asin(math.Min(1, math.Sqrt(h)))
}

// Vantage is one trace and the place it ran from.
type Vantage struct {
	Source LatLon
	Result *traceroute.Result
}

// CrossCheck tightens the placements of addresses that several traces
// (from several places) saw: run after TraceWith on each, it marks a
// plausible placement implausible when it is farther from any of those
// sources than the RTT seen from there allows. Each trace keeps its own
// bound_km. Anycast addresses are left alone: each source sees its own site.
func CrossCheck(vs []Vantage) {
	type sighting struct {
		src   LatLon
		bound float64
	}
	seen := map[netip.Addr][]sighting{}
	for _, v := range vs {
		for _, h := range v.Result.Hops {
			for _, a := range h.Addrs {
				if rtt := minRTT(&h, a.Addr); rtt > 0 {
					seen[a.Addr] = append(seen[a.Addr], sighting{v.Source, float64(rtt.Microseconds()) / 1000 * KMPerRTTMS})
				}
			}
		}
	}
	for _, v := range vs {
		for i := range v.Result.Hops {
			for j := range v.Result.Hops[i].Addrs {
				a := &v.Result.Hops[i].Addrs[j]
				if a.Placement != traceroute.PlacementPlausible || a.Anycast {
					continue
				}
				for _, s := range seen[a.Addr] {
					if distanceKM(s.src, LatLon{a.Lat, a.Lon}) > s.bound+ToleranceKM {
						a.Placement = traceroute.PlacementImplausible
						break
					}
				}
			}
		}
	}
}
