package check

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Variables each kind provides (documented in docs/CHECKS.md); every kind
// also has ok, duration, error, phase and address.
var kindVars = map[string][]string{
	"dns":         {"dns.rcode", "dns.answers", "dns.count", "dns.rtt", "dns.ttl", "dns.resolver", "dns.authoritative"},
	"propagation": {"dns.rcode", "dns.answers", "dns.count", "propagation.total", "propagation.answered", "propagation.failed", "propagation.consistent", "propagation.distinct", "propagation.verdict"},
	"tcp":         {"tcp.received", "tcp.family", "timings.dns", "timings.connect", "timings.first_byte", "timings.total"},
	"tls": {"cert.expires_in", "cert.days_left", "cert.chain_expires_in", "cert.verified_chain_expires_in", "cert.findings", "cert.trusted",
		"cert.hostname_ok", "cert.subject", "cert.issuer", "cert.sha256", "tls.version", "tls.cipher", "tls.alpn", "tls.ocsp_stapled",
		"timings.dns", "timings.connect", "timings.tls", "timings.total"},
	"http": {"status", "body", "body_size", "http.proto", "cert.expires_in", "tls.version",
		"timings.dns", "timings.connect", "timings.tls", "timings.first_byte", "timings.total"},
	"ws": {"ws.status", "ws.close_code", "ws.close_reason", "ws.received", "ws.subprotocol",
		"timings.dns", "timings.connect", "timings.tls", "timings.first_byte", "timings.total"},
	"diagnose": {"diagnose.failed_layer", "diagnose.verdict", "diagnose.addresses"},
}

var commonVars = []string{"ok", "duration", "error", "phase", "address"}

// knownFor returns the variable check for a kind's conditions.
func knownFor(kind string) func(string) bool {
	return func(p string) bool {
		if slices.Contains(commonVars, p) || slices.Contains(kindVars[kind], p) {
			return true
		}
		if kind == "http" {
			return strings.HasPrefix(p, "body.json.") || p == "body.json" || strings.HasPrefix(p, "header.") && len(p) > len("header.")
		}
		return false
	}
}

// vars is the Env of one check result: plain values, response headers and
// a body whose JSON is parsed on first use.
type vars struct {
	m      map[string]any
	header http.Header
	body   string
	parsed bool
	json   any
	jsonOK bool
}

func (v *vars) Lookup(path string) (any, bool) {
	if x, ok := v.m[path]; ok {
		return x, x != nil
	}
	if name, ok := strings.CutPrefix(path, "header."); ok && v.header != nil {
		vals := v.header.Values(name)
		if len(vals) == 0 {
			return nil, false
		}
		return strings.Join(vals, ", "), true
	}
	if path == "body.json" || strings.HasPrefix(path, "body.json.") {
		return v.jsonPath(strings.TrimPrefix(strings.TrimPrefix(path, "body.json"), "."))
	}
	return nil, false
}

func (v *vars) jsonPath(path string) (any, bool) {
	if !v.parsed {
		v.parsed = true
		v.jsonOK = json.Unmarshal([]byte(v.body), &v.json) == nil
	}
	if !v.jsonOK {
		return nil, false
	}
	cur := v.json
	for _, seg := range splitPath(path) {
		switch x := cur.(type) {
		case map[string]any:
			var ok bool
			if cur, ok = x[seg]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			cur = x[i]
		default:
			return nil, false
		}
	}
	return cur, cur != nil
}

// splitPath splits a.b[0].c into a, b, 0, c.
func splitPath(p string) []string {
	p = strings.NewReplacer("[", ".", "]", "").Replace(p)
	var out []string
	for _, s := range strings.Split(p, ".") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
