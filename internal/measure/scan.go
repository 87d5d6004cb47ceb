package measure

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/diagnose"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnssec"
	"github.com/dnsscience/dnsscience/internal/scan"
)

// maxTrustAnchor bounds the trust_anchor option's text.
const maxTrustAnchor = 16 << 10

// ScanOptions are the options of a domain health scan.
type ScanOptions struct {
	Roots       []string `json:"roots,omitempty" doc:"root servers (IP[:port]) the walk starts from, as dig +trace; default the public roots" max:"64"`
	TrustAnchor string   `json:"trust_anchor,omitempty" doc:"DNSSEC trust anchors: DS or DNSKEY records of one zone in zone-file syntax; default the root KSK"`
	NoIPv6      bool     `json:"no_ipv6,omitempty" doc:"leave the name servers' IPv6 addresses out"`
	TimeoutMs   int      `json:"timeout_ms,omitempty" doc:"each query's timeout, in milliseconds (tried twice)" min:"100" max:"10000" default:"2000"`
}

func scanKind() Kind {
	return &spec[ScanOptions]{
		info: Info{Name: "scan", Aliases: []string{"health"}, Summary: "a domain's health: delegation, every name server, DNSSEC chain, mail and web records",
			Target: "a domain name", Class: "scan", Timeout: 90 * time.Second, Connects: true,
			Vars: []string{"scan.verdict", "scan.errors", "scan.warnings", "dnssec.status"}},
		prepare: prepareScan,
		values:  valuesOf(scanValues),
	}
}

func prepareScan(_ context.Context, env *Env, target string, o *ScanOptions) (RunFunc, []string, error) {
	name, err := dnsq.NormalizeName(target)
	if err != nil {
		return nil, nil, fieldErr("target", "%v", err)
	}
	roots, port, err := parseRoots(o.Roots)
	if err != nil {
		return nil, nil, err
	}
	if len(roots) == 0 && diagnose.Internal(name, nil) {
		return nil, nil, fieldErr("target", "%s is an internal name (single label, special-use or private TLD): it is never sent to the public root servers; give roots", strings.TrimSuffix(name, "."))
	}
	opts := scan.Options{Roots: roots, Port: port, NoIPv6: o.NoIPv6}
	if strings.TrimSpace(o.TrustAnchor) != "" {
		if len(o.TrustAnchor) > maxTrustAnchor {
			return nil, nil, fieldErr("options.trust_anchor", "%d bytes; at most %d", len(o.TrustAnchor), maxTrustAnchor)
		}
		if opts.Anchors, err = dnssec.ParseAnchors(o.TrustAnchor); err != nil {
			return nil, nil, fieldErr("options.trust_anchor", "%v", err)
		}
	}
	timeout := time.Duration(o.TimeoutMs) * time.Millisecond
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	opts.Client = &dnsq.Client{Timeout: timeout, Tries: 2, Dialer: env.dialer()}
	if db := env.geoDB(); db != nil {
		opts.ASN = func(a netip.Addr) uint32 { return db.Lookup(a).ASN }
	}
	return func(ctx context.Context, _ Emit) (any, error) {
		return scan.Health(ctx, name, opts), nil
	}, []string{strings.TrimSuffix(name, ".")}, nil
}

func scanValues(r *scan.Report) *Values {
	m := map[string]any{"ok": r.Verdict != scan.SevError, "scan.verdict": r.Verdict,
		"scan.errors": float64(r.Counts[scan.SevError]), "scan.warnings": float64(r.Counts[scan.SevWarning]),
		"duration": time.Duration(r.TookMs * float64(time.Millisecond))}
	if r.DNSSEC != nil {
		m["dnssec.status"] = string(r.DNSSEC.Status)
	}
	for _, f := range r.Findings {
		if f.Severity == scan.SevError {
			m["error"] = f.Code + ": " + f.Evidence
			break
		}
	}
	return &Values{M: m}
}
