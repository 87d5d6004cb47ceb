package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/enrich"
	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

type traceFlags struct {
	proto        string
	port         uint16
	v4, v6       bool
	maxHops      int
	queries      int
	maxInflight  int
	flows        int
	rounds       int
	continuous   bool
	interval     time.Duration
	noDNS        bool
	timeout      time.Duration
	csv          bool
	unprivileged bool
	geo          geoFlags
	noGeo        bool
	origin       string
	minWait      time.Duration
	retryPause   time.Duration
}

func newTraceCmd(e *env) *cobra.Command {
	var f traceFlags
	cmd := &cobra.Command{
		Use:     "trace TARGET",
		Aliases: []string{"traceroute"},
		Short:   "Trace the route to a host (traceroute, and mtr-style statistics)",
		Long: `trace finds the routers on the path to TARGET (an IP address or a host name)
with ICMP echo (default), UDP or TCP SYN probes, every TTL in flight at once.
Probes of one flow keep the fields that load balancers hash constant (Paris
traceroute), so the path shown is one real path; --flows N explores N flows.
The trace ends as soon as the destination answered and every lower hop is
resolved, or 5 silent hops past the last answer.

Once a later hop has answered, a silent hop is given up after 5 times the
RTT seen around it (at least --min-wait, 10ms), not the full --timeout; a
destination that never answers still waits the full timeout. Hops that
answered nothing are probed once more (after --retry-pause) before they
are called silent. A router that answers some probes and drops others
while the hops beyond it answer is rate-limited: its drops are shown
apart and are not loss.

With geo data each hop gets an ASN and a place. --origin LAT,LON (where
this host is) lets every place be checked against the speed of light in
fibre (about 100 km per ms of RTT): an impossible place is marked
implausible; an anycast address (root servers, public resolvers, your
overrides) is placed only when its RTT pins it near the origin.

On a terminal the table fills in live; otherwise a traceroute-like report is
printed. --rounds N (or --continuous) repeats the trace and shows loss and
latency statistics per hop, like mtr.

Raw sockets need root or CAP_NET_RAW; without them ICMP datagram sockets
(when net.ipv4.ping_group_range allows) and UDP are used.

Exit status: 0 the destination answered, 1 it did not, 2 bad input, 3 could
not run (no permission to send probes).`,
		Example: `  dnsscience trace 192.0.2.1
  dnsscience trace example.com --proto tcp --port 443
  dnsscience trace -6 example.com --no-dns
  dnsscience trace 10.0.0.1 --rounds 10        # mtr-style report
  dnsscience trace 10.0.0.1 --flows 8          # every ECMP branch
  dnsscience traceroute 10.0.0.1 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrace(cmd.Context(), e, f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.proto, "proto", "icmp", "probe protocol: icmp, udp or tcp")
	fl.Uint16Var(&f.port, "port", 0, "destination port for udp (default 33434) and tcp (default 80)")
	fl.BoolVarP(&f.v4, "ipv4", "4", false, "use IPv4 (resolve A records)")
	fl.BoolVarP(&f.v6, "ipv6", "6", false, "use IPv6 (resolve AAAA records)")
	fl.IntVarP(&f.maxHops, "max-hops", "m", traceroute.DefaultMaxHops, "largest TTL to probe (1-255)")
	fl.IntVarP(&f.queries, "queries", "q", 0, "probes per hop and flow (1-10; default 3, 1 per round with --rounds)")
	fl.IntVar(&f.maxInflight, "max-inflight", traceroute.DefaultMaxInflight, "probes awaiting an answer at once")
	fl.IntVar(&f.flows, "flows", 1, "flows to explore (1-64); each keeps to one ECMP path")
	fl.IntVar(&f.rounds, "rounds", 0, "mtr mode: number of rounds (0: a single trace)")
	fl.BoolVar(&f.continuous, "continuous", false, "mtr mode until interrupted")
	fl.DurationVar(&f.interval, "interval", traceroute.DefaultInterval, "time between mtr rounds")
	fl.BoolVarP(&f.noDNS, "no-dns", "n", false, "do not look up reverse DNS names of hops")
	fl.DurationVarP(&f.timeout, "timeout", "w", traceroute.DefaultTimeout, "how long a probe waits for its answer")
	fl.BoolVar(&f.csv, "csv", false, "print one CSV row per hop")
	fl.BoolVar(&f.unprivileged, "unprivileged", false, "use datagram sockets (ICMP ping sockets, UDP) even when raw sockets are allowed")
	f.geo.register(fl)
	fl.BoolVar(&f.noGeo, "no-geo", false, "do not add ASN and location to hops (no geo data is read)")
	fl.StringVar(&f.origin, "origin", os.Getenv(envOrigin), "where this host is, LAT,LON in degrees (e.g. 50.11,8.68): hop places farther than their RTT allows are marked implausible (env "+envOrigin+")")
	fl.DurationVar(&f.minWait, "min-wait", traceroute.DefaultMinWait, "least time a silent hop is waited for once a later hop answered")
	fl.DurationVar(&f.retryPause, "retry-pause", 0, "pause before silent hops are probed once more (1s outlasts Linux's ICMP rate limit)")
	cmd.MarkFlagsMutuallyExclusive("ipv4", "ipv6")
	cmd.MarkFlagsMutuallyExclusive("rounds", "continuous")
	return cmd
}

// options turns the flags into the registry's trace options (the same
// names, defaults and limits as the API and suites).
func (f traceFlags) options() (*measure.TraceOptions, error) {
	if f.timeout <= 0 || f.interval <= 0 {
		return nil, usageErr("--timeout and --interval must be positive durations such as 500ms or 2s")
	}
	if f.minWait <= 0 || f.retryPause < 0 {
		return nil, usageErr("--min-wait must be a positive duration and --retry-pause not negative, such as 10ms or 1s")
	}
	if f.rounds < 0 {
		return nil, usageErr("bad --rounds %d: want 0 (a single trace) or more", f.rounds)
	}
	o := &measure.TraceOptions{Protocol: f.proto, Port: f.port, MaxHops: f.maxHops, Queries: f.queries, Flows: f.flows,
		MaxInflight: f.maxInflight, TimeoutMs: ms(f.timeout), Rounds: f.rounds, IntervalMs: ms(f.interval),
		Continuous: f.continuous, NoDNS: f.noDNS, MinWaitMs: ms(f.minWait), RetryPauseMs: ms(f.retryPause)}
	switch {
	case f.v4:
		o.IPVersion = 4
	case f.v6:
		o.IPVersion = 6
	}
	if f.maxHops < 1 {
		return nil, usageErr("bad --max-hops %d: want 1 to 255", f.maxHops)
	}
	if f.flows < 1 {
		return nil, usageErr("bad --flows %d: want 1 to 64", f.flows)
	}
	if f.maxInflight < 1 {
		return nil, usageErr("bad --max-inflight %d: want 1 to 4096", f.maxInflight)
	}
	return o, nil
}

// ms is a duration in whole milliseconds, at least 1 for a positive one.
func ms(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return max(1, int(d/time.Millisecond))
}

// traceFlagNames maps the registry's trace options to the flags.
var traceFlagNames = map[string]string{"protocol": "--proto", "ip_version": "-4/-6", "timeout_ms": "--timeout",
	"interval_ms": "--interval", "min_wait_ms": "--min-wait", "retry_pause_ms": "--retry-pause"}

func runTrace(ctx context.Context, e *env, f traceFlags, arg string) error {
	if e.json && f.csv {
		return usageErr("--json and --csv cannot be used together")
	}
	o, err := f.options()
	if err != nil {
		return err
	}
	origin, err := parseOrigin(f.origin)
	if err != nil {
		return err
	}
	// The geo data loads while the probes fly; hops wait for it only when
	// they are shown.
	geoDB := sync.OnceValues(func() (*geo.DB, error) { return f.openGeo(e) })
	if !f.noGeo {
		go geoDB()
	}
	defer func() {
		if db, _ := geoDB(); db != nil {
			db.Close()
		}
	}()
	tr := &traceroute.Tracer{Unprivileged: f.unprivileged}
	defer tr.Close()
	menv := &measure.Env{Interactive: true, Tracer: tr, Source: origin, Geo: func() *geo.DB { db, _ := geoDB(); return db }}
	var out *traceOutput
	res, err := runKind(ctx, "trace", arg, o, menv, traceFlagNames, func(ev string, data any) {
		switch ev {
		case "target":
			t := data.(measure.TraceTarget)
			out = newTraceOutput(e, f, arg, traceroute.Request{Target: t.Addr, MaxHops: t.MaxHops, Protocol: t.Protocol})
		case "hop":
			if out != nil {
				out.hop(data.(traceroute.Hop))
			}
		}
	})
	switch {
	case errors.Is(err, traceroute.ErrBadRequest):
		return usageErr("%v", err)
	case errors.Is(err, traceroute.ErrPermission):
		return &exitError{code: ExitInternal, err: err}
	case err != nil:
		var ue *exitError
		if errors.As(err, &ue) {
			return err
		}
		return failErr(err)
	}
	if _, err := geoDB(); err != nil {
		return &exitError{code: ExitInternal, err: fmt.Errorf("opening geo data: %w", err)}
	}
	r := res.(*traceroute.Result)
	if out == nil {
		out = newTraceOutput(e, f, arg, traceroute.Request{Target: r.Target, MaxHops: r.MaxHops, Protocol: r.Protocol})
	}
	if err := out.final(r); err != nil {
		return err
	}
	if !r.Reached {
		return errSilentFail
	}
	return nil
}

// openGeo opens the geo data, or returns nil when --no-geo is given or no
// data is loaded (the report then reads as traceroute's).
func (f traceFlags) openGeo(e *env) (*geo.DB, error) {
	if f.noGeo {
		return nil, nil
	}
	db, err := f.geo.open(e)
	if err != nil {
		return nil, err
	}
	if !db.Loaded() {
		db.Close()
		return nil, nil
	}
	return db, nil
}

// envOrigin is the environment variable that gives --origin its default.
const envOrigin = "DNSSCIENCE_ORIGIN"

// parseOrigin reads --origin LAT,LON (nil when empty).
func parseOrigin(s string) (*enrich.LatLon, error) {
	if s == "" {
		return nil, nil
	}
	var ll enrich.LatLon
	la, lo, ok := strings.Cut(s, ",")
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(la), 64)
	lon, err2 := strconv.ParseFloat(strings.TrimSpace(lo), 64)
	if !ok || err1 != nil || err2 != nil || !(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180) {
		return nil, usageErr("bad --origin %q: want LAT,LON in degrees, latitude -90 to 90 and longitude -180 to 180, such as 50.11,8.68", s)
	}
	ll.Lat, ll.Lon = lat, lon
	return &ll, nil
}

// openGeo opens the geo data, or returns nil when --no-geo is given or no
