// Package measure is the registry of measurement kinds: each kind (dns,
// propagation, tcp, cert, http, ws, trace, geo, diagnose) is described once
// — its name and aliases, typed options with documented defaults and
// limits, the validation of its target and options, how it runs through its
// engine (streaming hops, answers or layers) and the variables its result
// gives to suite conditions. The CLI, the server (through the runner
// service) and suites all prepare measurements here.
package measure

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/enrich"
	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/probe"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

// Env is what kinds need from the process that runs them: the CLI, the
// server or an agent. The zero value works for a CLI: every target
// allowed, the system's resolvers, the shipped resolver list, no geo data.
type Env struct {
	// Dialer opens every connection to a target; nil means
	// netpolicy.AllowAll().Dialer().
	Dialer probe.Dialer
	// Policy is checked for addresses that are probed without a dial
	// (trace destinations); nil allows every address.
	Policy *netpolicy.Policy
	// Upstream are the process's own resolvers (trusted infrastructure,
	// not targets): dns queries without a server, host names of trace and
	// geo targets, diagnose's "system" resolvers. Empty means
	// /etc/resolv.conf (or ResolvConf).
	Upstream []dnsq.Server
	// ResolvConf is read when Upstream is empty; "" means /etc/resolv.conf.
	ResolvConf string
	// Resolvers are the resolvers known by name (shipped and configured);
	// empty means the shipped list.
	Resolvers []dnsq.Resolver
	// DNSTimeout bounds each DNS query try; 0 means 3 s.
	DNSTimeout time.Duration
	// RootCAs verifies TLS when a measurement names no CA; nil means the
	// system roots.
	RootCAs *x509.CertPool
	// Tracer sends traceroute probes; nil means a Tracer made for the one
	// measurement (and closed after it).
	Tracer *traceroute.Tracer
	// Delegation runs diagnose's delegation traces; nil means the shipped
	// root hints.
	Delegation *dnsq.Tracer
	// Geo returns the geo data that enriches hops and geo lookups; nil (or
	// a nil result) means none (special-purpose ranges are still labelled).
	Geo func() *geo.DB
	// Interactive allows what only a person at a terminal can stop
	// (continuous traces).
	Interactive bool
	// MaxTraceProbes bounds max_hops × queries × flows of a trace round;
	// 0 means no bound beyond the options' limits.
	MaxTraceProbes int
	// Source is where this process measures from, when known: every hop's
	// place is checked against the distance its RTT allows from here, and
	// anycast hops are placed only when the RTT pins them.
	Source *enrich.LatLon
}

// Emit streams one event of a running measurement: "hop", "answer",
// "layer", "target" ... with its data.
type Emit func(event string, data any)

// RunFunc runs a prepared measurement and returns its result.
type RunFunc func(ctx context.Context, emit Emit) (any, error)

// Info describes a kind.
type Info struct {
	// Name is the canonical name; Aliases are accepted too.
	Name    string   `json:"name"`
	Aliases []string `json:"aliases,omitempty"`
	Summary string   `json:"summary"`
	// Target says what the target is ("a domain name", "host:port" ...).
	Target string `json:"target"`
	// Class is the rate-limit class.
	Class string `json:"class"`
	// Timeout bounds a run; a shorter "timeout" option wins.
	Timeout time.Duration `json:"-"`
	// Connects says the target is something the measurement connects to,
	// so the target policy applies to it before it runs.
	Connects bool `json:"connects"`
	// Events are the event types a run streams.
	Events []string `json:"events,omitempty"`
	// Vars are the variables the result gives to conditions (besides
	// CommonVars); VarPrefixes are families such as "header.".
	Vars        []string `json:"variables"`
	VarPrefixes []string `json:"variable_prefixes,omitempty"`
}

// Plan is a validated measurement, ready to run.
type Plan struct {
	Kind   string
	Target string
	// Options are the decoded options, encoded again (what is stored and
	// what an agent receives).
	Options json.RawMessage
	// Timeout bounds the run.
	Timeout time.Duration
	// Hosts are the hosts or addresses the run will connect to (the
	// target's and any connect_to), for the policy pre-check.
	Hosts []string
	// Run runs it.
	Run RunFunc
}

// Kind is one measurement kind, as the registry holds it.
type Kind interface {
	Info() *Info
	// Options describes the options (for OpenAPI, the UI's forms, docs).
	Options() []Field
	// Prepare validates target and raw JSON options and binds the run.
	Prepare(ctx context.Context, env *Env, target string, raw json.RawMessage) (*Plan, error)
	// PrepareWith is Prepare with typed options (a pointer to the kind's
	// options struct), as the CLI builds them from flags.
	PrepareWith(ctx context.Context, env *Env, target string, opts any) (*Plan, error)
	// Values exposes a result to conditions.
	Values(result any) *Values
}

// Registry is the list of kinds.
type Registry struct {
	kinds []Kind
}

// New returns the registry of every built-in kind.
func New() *Registry {
	return &Registry{kinds: []Kind{
		dnsKind(), propagationKind(), tcpKind(), certKind(), httpKind(), wsKind(),
		traceKind(), geoKind(), diagnoseKind(), scanKind(), snapshotKind(), rootsKind(),
	}}
}

// Kinds lists the kinds in a stable order.
func (r *Registry) Kinds() []Kind { return r.kinds }

// Names lists the canonical names, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.kinds))
	for _, k := range r.kinds {
		out = append(out, k.Info().Name)
	}
	slices.Sort(out)
	return out
}

// Lookup finds a kind by name or alias (case-insensitive).
func (r *Registry) Lookup(name string) (Kind, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for _, k := range r.kinds {
		if k.Info().Name == name || slices.Contains(k.Info().Aliases, name) {
			return k, true
		}
	}
	return nil, false
}

// Prepare looks the kind up and prepares a measurement from JSON options.
func (r *Registry) Prepare(ctx context.Context, env *Env, kind, target string, raw json.RawMessage) (*Plan, error) {
	k, err := r.kind(kind)
	if err != nil {
		return nil, err
	}
	return k.Prepare(ctx, env, target, raw)
}

func (r *Registry) kind(name string) (Kind, error) {
	k, ok := r.Lookup(name)
	if !ok {
		return nil, &FieldError{Field: "type", Detail: fmt.Sprintf("unknown measurement type %q; want one of %s", name, strings.Join(r.Names(), ", "))}
	}
	return k, nil
}

// commonVars are the variables every kind's result gives to conditions.
func commonVars() []string { return []string{"ok", "duration", "error", "phase", "address"} }
