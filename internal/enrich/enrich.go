// Package enrich adds what the geo engine knows (ASN, organisation,
// location, special-purpose ranges, anycast) to the results of other
// engines, as a step separate from measuring: the traceroute engine never
// looks anything up itself. It also judges every placed hop against the
// speed of light in fibre (place.go).
package enrich

import (
	"context"
	"net/netip"

	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

// Options says what the enrichment may use beyond the geo data.
type Options struct {
	// Source is where the trace ran from. With it every placement is
	// checked against the distance its minimum RTT allows from the source;
	// without it only against the previous placed hop, and anycast hops
	// stay unplaced.
	Source *LatLon
}

// Hop fills the ASN and location fields of every address of h. A nil db
// leaves h as it is.
func Hop(ctx context.Context, db *geo.DB, h *traceroute.Hop) {
	HopWith(ctx, db, h, Options{})
}

// HopWith is Hop with options: each placement is checked against the
// source (a hop alone knows no previous hop; Trace checks that too).
func HopWith(ctx context.Context, db *geo.DB, h *traceroute.Hop, o Options) {
	if db == nil || len(h.Addrs) == 0 {
		return
	}
	addrs := make([]netip.Addr, len(h.Addrs))
	for i, a := range h.Addrs {
		addrs[i] = a.Addr
	}
	infos := make([]geo.Info, len(addrs))
	n := db.EnrichInto(ctx, infos, addrs)
	for i := range n {
		apply(&h.Addrs[i], infos[i])
	}
	var p placer
	p.source = o.Source
	p.hop(h)
}

// Trace fills every hop of res, looking all addresses up in one pass.
func Trace(ctx context.Context, db *geo.DB, res *traceroute.Result) {
	TraceWith(ctx, db, res, Options{})
}

// TraceWith is Trace with options: every placement is checked against the
// source and the previous placed hop.
func TraceWith(ctx context.Context, db *geo.DB, res *traceroute.Result, o Options) {
	if db == nil || res == nil {
		return
	}
	total := 0
	for _, h := range res.Hops {
		total += len(h.Addrs)
	}
	addrs := make([]netip.Addr, 0, total)
	for _, h := range res.Hops {
		for _, a := range h.Addrs {
			addrs = append(addrs, a.Addr)
		}
	}
	infos := make([]geo.Info, len(addrs))
	n := db.EnrichInto(ctx, infos, addrs)
	k := 0
	for i := range res.Hops {
		for j := range res.Hops[i].Addrs {
			if k < n {
				apply(&res.Hops[i].Addrs[j], infos[k])
			}
			k++
		}
	}
	p := placer{source: o.Source}
	for i := range res.Hops {
		p.hop(&res.Hops[i])
	}
}

func apply(a *traceroute.HopAddr, in geo.Info) {
	a.ASN, a.ASOrg = in.ASN, in.ASOrg
	a.City, a.Country = in.City, in.CountryCode
	a.Special, a.Label = in.Special, in.Label
	a.Anycast = in.Anycast
	a.Located = in.Located
	if in.Located {
		a.Lat, a.Lon = in.Latitude, in.Longitude
	}
}
