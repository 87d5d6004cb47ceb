package measure

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/roots"
)

// RootsOptions are the options of a roots measurement.
type RootsOptions struct {
	Roots     []string `json:"roots,omitempty" doc:"stand-in root servers instead of the 13 shipped ones: LETTER=ADDR or ADDR (letters a, b, c ... by position), ADDR an IP address with an optional port" max:"64"`
	IPVersion int      `json:"ip_version,omitempty" doc:"4 or 6 to ask over one family; default both" enum:"4,6"`
	Timeout   Duration `json:"timeout,omitempty" doc:"bound on each question, all tries included" max:"10s" default:"4s"`
}

func (o *RootsOptions) overall() time.Duration { return o.Timeout.D() }

func rootsKind() Kind {
	return &spec[RootsOptions]{
		info: Info{Name: "roots", Summary: "which instance of each root server answers here, over IPv4 and IPv6, and how fast",
			Target: `"." (the root servers)`, Class: "dns", Timeout: 12 * time.Second, Connects: true, Events: []string{"answer"},
			Vars: []string{"roots.answered", "roots.total", "roots.fastest", "roots.fastest_rtt"}},
		prepare: prepareRoots,
		values:  valuesOf(rootsValues),
	}
}

func prepareRoots(_ context.Context, env *Env, target string, o *RootsOptions) (RunFunc, []string, error) {
	if target != "." && !strings.EqualFold(target, "root") {
		return nil, nil, fieldErr("target", "%q; give \".\" (the root servers); stand-ins go in options.roots", target)
	}
	targets := roots.Targets(roots.Shipped(), o.IPVersion)
	if len(o.Roots) > 0 {
		var err error
		if targets, err = roots.ParseTargets(o.Roots, o.IPVersion); err != nil {
			return nil, nil, fieldErr("options.roots", "%v", err)
		}
	}
	if len(targets) == 0 {
		return nil, nil, fieldErr("options.ip_version", "no root server address of IPv%d to ask", o.IPVersion)
	}
	hosts := make([]string, len(targets))
	for i, t := range targets {
		hosts[i] = t.Addr.Addr().String()
	}
	c := env.dnsClient(false, o.Timeout.D())
	return func(ctx context.Context, emit Emit) (any, error) {
		return (&roots.Prober{Client: c}).Run(ctx, targets, func(a roots.Answer) { emit("answer", a) }), nil
	}, hosts, nil
}

func rootsValues(r *roots.Result) *Values {
	m := map[string]any{"ok": r.Answered == r.Total, "roots.answered": float64(r.Answered), "roots.total": float64(r.Total)}
	var best *roots.Answer
	var silent []string
	for i, a := range r.Answers {
		if a.Error != "" {
			silent = append(silent, a.Letter+" "+a.Addr)
			continue
		}
		if best == nil || a.RTTMs < best.RTTMs {
			best = &r.Answers[i]
		}
	}
	if best != nil {
		m["roots.fastest"], m["roots.fastest_rtt"] = best.Letter, time.Duration(best.RTTMs*float64(time.Millisecond))
		m["address"] = best.Addr
	}
	if len(silent) > 0 {
		m["error"] = fmt.Sprintf("no answer from %s", strings.Join(silent, ", "))
	}
	return &Values{M: m}
}
