package measure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/diagnose"
	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// StringList is a list option that also takes one string.
type StringList []string

// UnmarshalJSON reads a string or a list of strings.
func (l *StringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = StringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("want a string or a list of strings")
	}
	*l = many
	return nil
}

// DiagnoseOptions are the options of a diagnose measurement.
type DiagnoseOptions struct {
	TrustOptions
	Resolvers    []string   `json:"resolvers,omitempty" doc:"resolvers to ask besides the process's own, by name or address" max:"16"`
	NoSystem     bool       `json:"no_system,omitempty" doc:"do not ask the process's own resolvers (only resolvers)"`
	ExpectIP     []string   `json:"expect_ip,omitempty" doc:"addresses the name must resolve to" max:"16"`
	ConnectTo    StringList `json:"connect_to,omitempty" doc:"addresses (a load balancer's) to probe instead of the DNS answers; DNS is still checked" max:"8"`
	Timeout      Duration   `json:"timeout,omitempty" doc:"bound for each layer" max:"30s" default:"5s"`
	NoTrace      bool       `json:"no_trace,omitempty" doc:"skip the delegation trace when DNS fails"`
	WarnDays     *int       `json:"warn_days,omitempty" doc:"warn when the certificate expires within this many days; 0 turns it off" default:"14" min:"0" max:"3650"`
	Linger       Duration   `json:"linger,omitempty" doc:"how long the WebSocket layer waits for the server to close after the upgrade" default:"1s" max:"30s"`
	NoLinger     bool       `json:"no_linger,omitempty" doc:"the WebSocket layer closes right after the upgrade"`
	Strict       bool       `json:"strict,omitempty" doc:"a warning (a certificate expiring soon, a server closing with 1000 at once) fails the diagnosis"`
	Roots        []string   `json:"roots,omitempty" doc:"root servers (IP[:port]) the delegation trace starts from; default the public roots" max:"64"`
	PrivateZones []string   `json:"private_zones,omitempty" doc:"zones that exist only inside the network: their names are never traced from the public roots" max:"32"`
}

func diagnoseKind() Kind {
	return &spec[DiagnoseOptions]{
		info: Info{Name: "diagnose", Summary: "which layer is broken: DNS, TCP, TLS, HTTP or WebSocket",
			Target: "a URL (http, https, ws, wss) or host[:port]", Class: "diagnose", Timeout: 90 * time.Second, Connects: true,
			Events: []string{"layer"},
			Vars:   []string{"diagnose.failed_layer", "diagnose.verdict", "diagnose.verdict_status", "diagnose.warnings", "diagnose.addresses"}},
		prepare: prepareDiagnose,
		values:  diagnoseValues,
	}
}

func prepareDiagnose(_ context.Context, env *Env, target string, o *DiagnoseOptions) (RunFunc, []string, error) {
	if strings.Contains(target, "://") {
		if err := checkURL(target, "http", "https", "ws", "wss"); err != nil {
			return nil, nil, err
		}
	} else if err := checkHostOptionalPort(target); err != nil {
		return nil, nil, err
	}
	req := diagnose.Request{URL: target, ExpectIP: o.ExpectIP, ConnectTo: o.ConnectTo, Timeout: o.Timeout.D(),
		NoTrace: o.NoTrace, NoSystem: o.NoSystem, Insecure: o.Insecure, Linger: o.Linger.D(),
		Dialer: env.dialer(), Tracer: env.Delegation}
	for i, ip := range o.ExpectIP {
		if _, err := netip.ParseAddr(ip); err != nil {
			return nil, nil, fieldErr(fmt.Sprintf("options.expect_ip[%d]", i), "%q is not an IP address", ip)
		}
	}
	hosts := []string{hostOf(target)}
	for i, c := range o.ConnectTo {
		a, _, err := hostAddr(fmt.Sprintf("options.connect_to[%d]", i), c)
		if err != nil {
			return nil, nil, err
		}
		hosts = append(hosts, a.String())
	}
	req.WarnDays, req.NoExpiryWarning = warnDays(o.WarnDays)
	req.NoLinger, req.Strict, req.PrivateZones = o.NoLinger, o.Strict, o.PrivateZones
	roots, port, err := parseRoots(o.Roots)
	if err != nil {
		return nil, nil, err
	}
	if req.Roots, req.RootsPort = roots, port; len(roots) > 0 {
		req.Tracer = nil // the given roots, not the process's delegation tracer
	}
	for _, r := range roots {
		hosts = append(hosts, r.Name)
	}
	for i, entry := range o.Resolvers {
		srv, _, err := env.server(fmt.Sprintf("options.resolvers[%d]", i), entry)
		if err != nil {
			return nil, nil, err
		}
		req.Resolvers = append(req.Resolvers, srv)
	}
	if o.NoSystem && len(req.Resolvers) == 0 {
		return nil, nil, fieldErr("options.no_system", "needs resolvers: there would be no resolver to ask")
	}
	pool, err := env.rootCAs("options.ca", o.CA)
	if err != nil {
		return nil, nil, err
	}
	req.RootCAs = pool
	return func(ctx context.Context, emit Emit) (any, error) {
		r := req
		if !r.NoSystem {
			up, err := env.upstream()
			if err != nil {
				return nil, err
			}
			r.System = up
		}
		r.OnLayer = func(l diagnose.Layer) { emit("layer", l) }
		return diagnose.Run(ctx, r)
	}, hosts, nil
}

func diagnoseValues(result any) *Values {
	res := result.(*diagnose.Result)
	var warnings []string
	for _, l := range res.Layers {
		if l.Status == diagnose.StatusWarn {
			warnings = append(warnings, l.Name)
		}
	}
	m := map[string]any{"ok": res.OK, "duration": res.Duration, "diagnose.addresses": res.Addresses,
		"diagnose.failed_layer": "", "diagnose.verdict": "", "diagnose.verdict_status": "", "diagnose.warnings": warnings, "error": ""}
	if v := res.Verdict; v != nil {
		m["diagnose.failed_layer"], m["diagnose.verdict"], m["error"] = v.Layer, v.Problem, v.Problem
		m["diagnose.verdict_status"] = string(v.Status)
	}
	return &Values{M: m}
}

// parseRoots reads root servers given as IP[:port]; a port given applies
// to every server of the trace (a test hierarchy on one port).
func parseRoots(list []string) ([]dnsq.NSHost, int, error) {
	var hosts []dnsq.NSHost
	port := 0
	for i, entry := range list {
		host := strings.TrimSpace(entry)
		if h, p, err := net.SplitHostPort(host); err == nil {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return nil, 0, fieldErr(fmt.Sprintf("options.roots[%d]", i), "port %q; want 1 to 65535", p)
			}
			host, port = h, n
		}
		a, err := netip.ParseAddr(host)
		if err != nil {
			return nil, 0, fieldErr(fmt.Sprintf("options.roots[%d]", i), "%q is not an IP address[:port]", entry)
		}
		hosts = append(hosts, dnsq.NSHost{Name: host, Addrs: []netip.Addr{a}})
	}
	return hosts, port, nil
}
