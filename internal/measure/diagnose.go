package measure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/diagnose"
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
	Resolvers []string   `json:"resolvers,omitempty" doc:"resolvers to ask besides the process's own, by name or address" max:"16"`
	NoSystem  bool       `json:"no_system,omitempty" doc:"do not ask the process's own resolvers (only resolvers)"`
	ExpectIP  []string   `json:"expect_ip,omitempty" doc:"addresses the name must resolve to" max:"16"`
	ConnectTo StringList `json:"connect_to,omitempty" doc:"addresses (a load balancer's) to probe instead of the DNS answers; DNS is still checked" max:"8"`
	Timeout   Duration   `json:"timeout,omitempty" doc:"bound for each layer" max:"30s" default:"5s"`
	NoTrace   bool       `json:"no_trace,omitempty" doc:"skip the delegation trace when DNS fails"`
	WarnDays  *int       `json:"warn_days,omitempty" doc:"warn when the certificate expires within this many days; 0 turns it off" default:"14" min:"0" max:"3650"`
	Linger    Duration   `json:"linger,omitempty" doc:"how long the WebSocket layer waits for the server to close after the upgrade" max:"30s"`
}

func diagnoseKind() Kind {
	return &spec[DiagnoseOptions]{
		info: Info{Name: "diagnose", Summary: "which layer is broken: DNS, TCP, TLS, HTTP or WebSocket",
			Target: "a URL (http, https, ws, wss) or host[:port]", Class: "diagnose", Timeout: 90 * time.Second, Connects: true,
			Events: []string{"layer"},
			Vars:   []string{"diagnose.failed_layer", "diagnose.verdict", "diagnose.addresses"}},
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
		Dialer: env.dialer(), SystemDialer: &net.Dialer{}, Tracer: env.Delegation}
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
	if o.WarnDays != nil {
		if req.WarnDays = *o.WarnDays; req.WarnDays == 0 {
			req.WarnDays = -1
		}
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
	m := map[string]any{"ok": res.OK, "duration": res.Duration, "diagnose.addresses": res.Addresses,
		"diagnose.failed_layer": "", "diagnose.verdict": "", "error": ""}
	if v := res.Verdict; v != nil {
		m["diagnose.failed_layer"], m["diagnose.verdict"], m["error"] = v.Layer, v.Problem, v.Problem
	}
	return &Values{M: m}
}
