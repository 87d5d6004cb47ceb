package cli

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dnsscience/dnsscience/internal/traceroute"
)

// traceOutput renders a trace: a live table on a terminal, else a report
// at the end (traceroute-like, mtr-like in rounds mode, JSON or CSV).
type traceOutput struct {
	e       *env
	f       traceFlags
	arg     string
	req     traceroute.Request
	live    bool
	mu      sync.Mutex
	hops    map[int]traceroute.Hop
	drawn   int // lines of the live table on screen
	lastDrw time.Time
}

func newTraceOutput(e *env, f traceFlags, arg string, req traceroute.Request) *traceOutput {
	live := !e.json && !f.csv && e.isTerminal(e.stdout)
	return &traceOutput{e: e, f: f, arg: arg, req: req, live: live, hops: map[int]traceroute.Hop{}}
}

func (o *traceOutput) mtr() bool { return o.f.rounds > 0 || o.f.continuous }

// hop receives streamed hop updates; on a terminal it redraws the table at
// most every 50 ms.
func (o *traceOutput) hop(h traceroute.Hop) {
	if !o.live {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.hops[h.TTL] = h
	if time.Since(o.lastDrw) < 50*time.Millisecond {
		return
	}
	o.redraw(o.sorted())
}

func (o *traceOutput) sorted() []traceroute.Hop {
	var hs []traceroute.Hop
	for _, h := range o.hops {
		hs = append(hs, h)
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].TTL < hs[j].TTL })
	// Show only up to the highest TTL that has answered, plus one.
	last := 0
	for _, h := range hs {
		if h.Stats.Received > 0 {
			last = h.TTL
		}
	}
	for len(hs) > 0 && hs[len(hs)-1].TTL > last+1 {
		hs = hs[:len(hs)-1]
	}
	return hs
}

func (o *traceOutput) redraw(hs []traceroute.Hop) {
	var b strings.Builder
	if o.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA\x1b[J", o.drawn)
	}
	lines := o.table(hs)
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	o.drawn = len(lines)
	o.lastDrw = time.Now()
	io.WriteString(o.e.stdout, b.String())
}

func (o *traceOutput) final(res *traceroute.Result) error {
	switch {
	case o.e.json:
		return writeJSON(o.e.stdout, res)
	case o.f.csv:
		return writeTraceCSV(o.e.stdout, res)
	case o.live:
		o.mu.Lock()
		defer o.mu.Unlock()
		o.redraw(res.Hops)
		_, err := fmt.Fprintln(o.e.stdout, summary(res))
		return err
	case o.mtr():
		for _, l := range o.table(res.Hops) {
			if _, err := fmt.Fprintln(o.e.stdout, l); err != nil {
				return err
			}
		}
		_, err := fmt.Fprintln(o.e.stdout, summary(res))
		return err
	}
	return o.plain(res)
}

func summary(res *traceroute.Result) string {
	state := "reached"
	if !res.Reached {
		state = "not reached"
	}
	return fmt.Sprintf("%s %s in %d hops, %d round(s), %.0f ms (%s sockets)",
		res.Target, state, len(res.Hops), res.Rounds, res.DurationMS, res.Mode)
}

// header is the first line, as traceroute prints it.
func (o *traceOutput) header() string {
	return fmt.Sprintf("trace to %s (%s), %d hops max, %s probes", o.arg, o.req.Target, o.req.MaxHops, o.req.Protocol)
}

// plain prints a traceroute-like report.
func (o *traceOutput) plain(res *traceroute.Result) error {
	var b strings.Builder
	b.WriteString(o.header() + "\n")
	for _, h := range res.Hops {
		fmt.Fprintf(&b, "%2d", h.TTL)
		var last string
		for i, p := range h.Probes {
			if p.Timeout || !p.Addr.IsValid() {
				if i == 0 {
					b.WriteString(" ")
				}
				b.WriteString(" *")
				continue
			}
			if host := hostLabel(h, p.Addr); host != last {
				b.WriteString("  " + host)
				last = host
			}
			fmt.Fprintf(&b, "  %.3f ms", p.RTTMS)
			if p.Flag != "" {
				b.WriteString(" " + p.Flag)
			}
			if len(p.MPLS) > 0 {
				b.WriteString(" " + mplsString(p.MPLS))
			}
		}
		if h.State == traceroute.StateRateLimited {
			fmt.Fprintf(&b, "  (rate-limited: %d unanswered, not loss)", h.Stats.RateLimited)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(o.e.stdout, b.String())
	return err
}

// hostLabel is "name (addr)" or "addr", followed by what geo knows:
// "[AS64500 Example Transit, London GB]", "[private-use]".
func hostLabel(h traceroute.Hop, a interface{ String() string }) string {
	for _, ha := range h.Addrs {
		if ha.Addr.String() != a.String() {
			continue
		}
		label := ha.Addr.String()
		if ha.Name != "" {
			label = fmt.Sprintf("%s (%s)", ha.Name, ha.Addr)
		}
		if g := geoLabel(ha); g != "" {
			label += " [" + g + "]"
		}
		return label
	}
	return a.String()
}

func geoLabel(a traceroute.HopAddr) string {
	if a.Special != "" && a.Label == "" && !a.Located && !a.Anycast {
		return a.Special
	}
	var parts []string
	if a.ASN != 0 {
		parts = append(parts, strings.TrimSpace(fmt.Sprintf("AS%d %s", a.ASN, a.ASOrg)))
	}
	if place := strings.TrimSpace(a.City + " " + a.Country); place != "" {
		if a.Placement == traceroute.PlacementImplausible {
			place += fmt.Sprintf("?? implausible: RTT allows %.0f km", a.BoundKM)
		}
		parts = append(parts, place)
	}
	switch {
	case a.Placement == traceroute.PlacementAnycastUnplaced:
		parts = append(parts, "anycast, nearest site unknown")
	case a.Anycast:
		parts = append(parts, "anycast")
	}
	if a.Label != "" {
		parts = append(parts, a.Label)
	}
	return strings.Join(parts, ", ")
}

func mplsString(ls []traceroute.MPLSLabel) string {
	var parts []string
	for _, l := range ls {
		parts = append(parts, fmt.Sprintf("L=%d,E=%d,S=%d,T=%d", l.Label, l.TC, map[bool]int{true: 1}[l.S], l.TTL))
	}
	return "<MPLS:" + strings.Join(parts, "/") + ">"
}

// table renders the mtr-style table (live view and --rounds report).
func (o *traceOutput) table(hs []traceroute.Hop) []string {
	lines := []string{o.header(),
		fmt.Sprintf("%4s  %-40s %6s %4s %4s %7s %7s %7s %7s %7s %7s", "Hop", "Host", "Loss%", "RLim", "Snt", "Last", "Avg", "Best", "Wrst", "StDev", "Javg")}
	for _, h := range hs {
		host := "???"
		if len(h.Addrs) > 0 {
			host = hostLabel(h, h.Addrs[0].Addr)
		}
		if h.Flag != "" {
			host += " " + h.Flag
		}
		if h.State == traceroute.StateRateLimited {
			host += " (rate-limited)"
		}
		s := h.Stats
		lines = append(lines, fmt.Sprintf("%4d  %-40s %5.1f%% %4d %4d %7.2f %7.2f %7.2f %7.2f %7.2f %7.2f",
			h.TTL, host, s.LossPct, s.RateLimited, s.Sent, s.LastMS, s.AvgMS, s.BestMS, s.WorstMS, s.StdDevMS, s.JitterMS))
		for _, a := range h.Addrs[min(1, len(h.Addrs)):] {
			lines = append(lines, fmt.Sprintf("%4s  %-40s", "", hostLabel(h, a.Addr)))
		}
	}
	return lines
}

// writeTraceCSV prints one row per hop.
func writeTraceCSV(w io.Writer, res *traceroute.Result) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"ttl", "addrs", "names", "reached", "flag", "sent", "received", "loss_pct",
		"last_ms", "avg_ms", "best_ms", "worst_ms", "stddev_ms", "jitter_ms", "rtts_ms", "state", "rate_limited", "anycast", "placements"})
	for _, h := range res.Hops {
		var addrs, names, rtts, places []string
		anycast := false
		for _, a := range h.Addrs {
			addrs = append(addrs, a.Addr.String())
			names = append(names, a.Name)
			places = append(places, a.Placement)
			anycast = anycast || a.Anycast
		}
		for _, p := range h.Probes {
			if p.Timeout {
				rtts = append(rtts, "*")
			} else {
				rtts = append(rtts, ff(p.RTTMS))
			}
		}
		s := h.Stats
		_ = cw.Write([]string{strconv.Itoa(h.TTL), strings.Join(addrs, " "), strings.Join(names, " "),
			strconv.FormatBool(h.Reached), h.Flag, strconv.Itoa(s.Sent), strconv.Itoa(s.Received), ff(s.LossPct),
			ff(s.LastMS), ff(s.AvgMS), ff(s.BestMS), ff(s.WorstMS), ff(s.StdDevMS), ff(s.JitterMS), strings.Join(rtts, " "),
			h.State, strconv.Itoa(s.RateLimited), strconv.FormatBool(anycast), strings.Join(places, " ")})
	}
	cw.Flush()
	return cw.Error()
}

func ff(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
