package measure

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/dnsscience/dnsscience/internal/enrich"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

// TraceOptions are the options of a trace measurement.
type TraceOptions struct {
	Protocol     string `json:"protocol,omitempty" doc:"probe protocol" enum:"icmp,udp,tcp" default:"icmp"`
	Port         uint16 `json:"port,omitempty" doc:"destination port of udp (33434) and tcp (80) probes"`
	IPVersion    int    `json:"ip_version,omitempty" doc:"4 or 6 for a host name; default IPv4, then IPv6" enum:"4,6"`
	MaxHops      int    `json:"max_hops,omitempty" doc:"largest TTL probed" min:"1" max:"255" default:"30"`
	Queries      int    `json:"queries,omitempty" doc:"probes per hop and flow" min:"1" max:"10" default:"3"`
	Flows        int    `json:"flows,omitempty" doc:"flows (ECMP paths) to explore" min:"1" max:"64" default:"1"`
	MaxInflight  int    `json:"max_inflight,omitempty" doc:"probes awaiting an answer at once" min:"1" max:"4096" default:"32"`
	TimeoutMs    int    `json:"timeout_ms,omitempty" doc:"how long each probe waits for its answer, in milliseconds" min:"1" max:"5000" default:"1000"`
	MinWaitMs    int    `json:"min_wait_ms,omitempty" doc:"least time a silent hop is waited for once a later hop answered, in milliseconds" min:"1" max:"5000" default:"10"`
	RetryPauseMs int    `json:"retry_pause_ms,omitempty" doc:"pause before silent hops are probed once more, in milliseconds (1000 outlasts Linux's ICMP rate limit)" min:"0" max:"5000"`
	Rounds       int    `json:"rounds,omitempty" doc:"mtr mode: rounds of one probe per hop, with loss and latency statistics" min:"1" max:"100"`
	IntervalMs   int    `json:"interval_ms,omitempty" doc:"time between mtr rounds, in milliseconds" min:"100" max:"10000" default:"1000"`
	Continuous   bool   `json:"continuous,omitempty" doc:"mtr mode until stopped (the CLI only)"`
	NoDNS        bool   `json:"no_dns,omitempty" doc:"do not look up reverse DNS names of hops"`
}

// TraceTarget is the first event of a trace: what is traced, once the
// target's name is resolved.
type TraceTarget struct {
	Target   string              `json:"target"`
	Addr     netip.Addr          `json:"addr"`
	Protocol traceroute.Protocol `json:"protocol"`
	MaxHops  int                 `json:"max_hops"`
}

func traceKind() Kind {
	return &spec[TraceOptions]{
		info: Info{Name: "trace", Aliases: []string{"traceroute", "mtr"}, Summary: "a traceroute, every hop with its network and place",
			Target: "an IP address or a host name", Class: "trace", Timeout: 120 * time.Second, Connects: true,
			Events: []string{"target", "hop"},
			Vars:   []string{"trace.reached", "trace.hops", "trace.rtt", "trace.addr"}},
		prepare: prepareTrace,
		values:  valuesOf(traceValues),
	}
}

func prepareTrace(_ context.Context, env *Env, target string, o *TraceOptions) (RunFunc, []string, error) {
	addr, name, err := hostAddr("target", target)
	if err != nil {
		return nil, nil, err
	}
	if addr.IsValid() && (o.IPVersion == 4 && !addr.Is4() || o.IPVersion == 6 && !addr.Is6()) {
		return nil, nil, fieldErr("options.ip_version", "%d, but the target %s is an IPv%s address", o.IPVersion, addr, map[bool]string{true: "4", false: "6"}[addr.Is4()])
	}
	if o.Protocol == "icmp" && o.Port != 0 || o.Protocol == "" && o.Port != 0 {
		return nil, nil, fieldErr("options.port", "applies to udp and tcp probes only")
	}
	if o.Continuous && !env.Interactive {
		return nil, nil, fieldErr("options.continuous", "only where someone can stop it (the CLI); give rounds instead")
	}
	if n := max(o.MaxHops, 30) * max(o.Queries, 3) * max(o.Flows, 1); env.MaxTraceProbes > 0 && n > env.MaxTraceProbes {
		return nil, nil, fieldErr("options.flows", "max_hops × queries × flows is %d probes a round; at most %d here", n, env.MaxTraceProbes)
	}
	req := traceroute.Request{Protocol: traceroute.Protocol(o.Protocol), Port: o.Port, MaxHops: o.MaxHops, Queries: o.Queries,
		Flows: o.Flows, MaxInflight: o.MaxInflight, Timeout: time.Duration(o.TimeoutMs) * time.Millisecond,
		Rounds: o.Rounds, Continuous: o.Continuous, Interval: time.Duration(o.IntervalMs) * time.Millisecond,
		MinWait: time.Duration(o.MinWaitMs) * time.Millisecond, RetryPause: time.Duration(o.RetryPauseMs) * time.Millisecond}
	return func(ctx context.Context, emit Emit) (any, error) {
		r := req
		if r.Target = addr; !addr.IsValid() {
			if r.Target, err = env.lookupHost(ctx, name, o.IPVersion); err != nil {
				return nil, err
			}
		}
		if env.Policy != nil {
			if err := env.Policy.Check(r.Target); err != nil {
				return nil, fmt.Errorf("%s resolves to %w", target, err)
			}
		}
		emit("target", TraceTarget{Target: target, Addr: r.Target, Protocol: r.Protocol, MaxHops: r.MaxHops})
		if !o.NoDNS {
			up, _ := env.upstream()
			r.Resolver = &traceroute.DNSResolver{Servers: up}
		}
		r.OnHop = func(h traceroute.Hop) {
			enrich.HopWith(ctx, env.geoDB(), &h, enrich.Options{Source: env.Source})
			emit("hop", h)
		}
		tr := env.Tracer
		if tr == nil {
			tr = &traceroute.Tracer{}
			defer tr.Close()
		}
		res, err := tr.Trace(ctx, r)
		if res != nil {
			enrich.TraceWith(ctx, env.geoDB(), res, enrich.Options{Source: env.Source})
		}
		if err != nil && res != nil && ctx.Err() != nil && env.Interactive {
			return res, nil // a person stopped it: what it found so far
		}
		if err != nil {
			return nil, err
		}
		return res, nil
	}, []string{target}, nil
}

func traceValues(res *traceroute.Result) *Values {
	m := map[string]any{"ok": res.Reached, "trace.reached": res.Reached, "trace.hops": float64(len(res.Hops)),
		"address": res.Target.String(), "trace.addr": res.Target.String(),
		"duration": time.Duration(res.DurationMS * float64(time.Millisecond))}
	if !res.Reached {
		m["error"] = fmt.Sprintf("%s not reached in %d hops", res.Target, len(res.Hops))
	}
	for _, h := range res.Hops {
		if h.Reached {
			m["trace.rtt"] = time.Duration(h.Stats.BestMS * float64(time.Millisecond))
		}
	}
	return &Values{M: m}
}
