package measure

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
)

const zone = `$TTL 300
@ SOA ns admin 1 3600 600 86400 60
@ NS ns
ns A 127.0.0.1
www A 192.0.2.80
txt TXT "v=spf1 -all" "second string"
private A 10.1.2.3
public A 1.2.3.4
`

// testEnv is an env whose own resolver is a loopback server for example.test.
func testEnv(t *testing.T) *Env {
	t.Helper()
	s := dnstest.Start(t, dnstest.NewZone(t, "example.test.", zone))
	srv, err := dnsq.ParseServer(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Upstream: []dnsq.Server{srv}}
}

// TestBadInputNamesTheField pairs bad requests with the field and the
// reason the registry gives (the API, suites and the CLI all show these).
func TestBadInputNamesTheField(t *testing.T) {
	t.Parallel()
	reg := New()
	for _, tc := range []struct {
		kind, target, options string
		field, detail         string
	}{
		{"trace", "192.0.2.1", `{"max_hops":64,"queries":10,"flows":64}`, "options.flows", "max_hops × queries × flows is 40960 probes a round; at most 5120 here"},
		{"nope", "x", ``, "type", `unknown measurement type "nope"; want one of cert, diagnose, dns, geo, http, propagation, `},
		{"dns", "", ``, "target", "missing; give a domain name such as example.com"},
		{"dns", "www..example", ``, "target", "empty label"},
		{"dns", "a\x00b.example", ``, "target", "contains a control character"},
		{"dns", "example.test", `{"type":"AAAAA"}`, "options.type", `unknown record type "AAAAA"`},
		{"dns", "example.test", `{"type":"TYPE0"}`, "options.type", `unknown record type "TYPE0"`},
		{"dns", "example.test", `{"bogus":1}`, "options.bogus", "unknown option for this measurement type; known: type, server, resolver, dnssec, timeout"},
		{"dns", "example.test", `{"timeout":5}`, "options.timeout", "want a duration such as 5s or 500ms"},
		{"dns", "example.test", `{"timeout":"1h"}`, "options.timeout", "1h0m0s is longer than the most allowed, 15s"},
		{"dns", "example.test", `{"server":"ftp://x"}`, "options.server", `"ftp://x" is neither a known resolver name`},
		{"dns", "example.test", `{} trailing`, "options", "not a valid JSON object"},
		{"trace", "192.0.2.1", `{"max_hops":256}`, "options.max_hops", "256; want 1 to 255"},
		{"trace", "192.0.2.1", `{"protocol":"sctp"}`, "options.protocol", `"sctp"; want icmp, udp or tcp`},
		{"trace", "192.0.2.1", `{"ip_version":6}`, "options.ip_version", "6, but the target 192.0.2.1 is an IPv4 address"},
		{"trace", "192.0.2.1", `{"port":80}`, "options.port", "applies to udp and tcp probes only"},
		{"trace", "192.0.2.1", `{"continuous":true}`, "options.continuous", "only where someone can stop it"},
		{"trace", "http://x/y", ``, "target", `"http://x/y" is neither an IP address nor a host name`},
		{"tcp", "host", ``, "target", "want host:port"},
		{"tcp", "host:99999", ``, "target", `port "99999"; want 1 to 65535`},
		{"http", "http:/x", ``, "target", "want a URL such as http://host/path"},
		{"http", "ftp://x/", ``, "target", `scheme "ftp"; want http or https`},
		{"http", "http://x/", `{"method":"BREW"}`, "options.method", `"BREW"; want get, head, post`},
		{"http", "http://x/", `{"headers":"x"}`, "options.headers", "want a object, got a string"},
		{"cert", "x.test:443", `{"warn_days":-1}`, "options.warn_days", "-1; want 0 to 3650"},
		{"cert", "x.test:443", `{"ca":"not pem"}`, "options.ca", "no PEM certificate in it"},
		{"ws", "ws://x/", `{"linger":"1m"}`, "options.linger", "longer than the most allowed, 30s"},
		{"geo", "not-an-ip,192.0.2.1", ``, "target", `"not-an-ip" is a host name; give addresses separated by commas`},
		{"diagnose", "https://x.test/", `{"expect_ip":["nope"]}`, "options.expect_ip[0]", `"nope" is not an IP address`},
		{"diagnose", "https://x.test/", `{"no_system":true}`, "options.no_system", "needs resolvers"},
		{"propagation", "x.test", `{"resolvers":["tls://127.0.0.1","127.0.0.1"]}`, "options.resolvers[1]", "is asked over udp, the others over tls"},
		{"scan", "x.test", ``, "target", "internal name"},
		{"scan", "x.test", `{"roots":["nope"]}`, "options.roots[0]", `"nope" is not an IP address`},
		{"scan", "x.test", `{"roots":["127.0.0.1"],"trust_anchor":"x. A 192.0.2.1"}`, "options.trust_anchor", "give DS or DNSKEY records"},
		{"scan", "x.test", `{"roots":["127.0.0.1"],"timeout_ms":5}`, "options.timeout_ms", "5; want 100 to 10000"},
		{"scan", "bad..name", ``, "target", "empty label"},
	} {
		_, err := reg.Prepare(context.Background(), &Env{MaxTraceProbes: 64 * 5 * 16}, tc.kind, tc.target, json.RawMessage(tc.options))
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(fe.Detail, tc.detail) {
			t.Errorf("%s %q %s: got %v, want %s: ...%s...", tc.kind, tc.target, tc.options, err, tc.field, tc.detail)
		}
	}
}

func TestAliasesAndNormalisedOptions(t *testing.T) {
	t.Parallel()
	p, err := New().Prepare(context.Background(), &Env{}, "TLS", "example.test", json.RawMessage(`{"sni":"a.example","timeout_ms":1500}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != "cert" || string(p.Options) != `{"timeout_ms":1500,"sni":"a.example"}` || p.Hosts[0] != "example.test" {
		t.Errorf("plan %+v options %s", p, p.Options)
	}
	// The run is bounded by the option's timeout plus a moment, not the kind's 35 s.
	if p.Timeout.Seconds() != 3.5 {
		t.Errorf("timeout %s, want 3.5s", p.Timeout)
	}
}

// TestDNSKindKeepsDigQuoting: one record presenter for every face (TXT
// strings quoted as dig prints them), TYPEnnn and IDN names accepted.
func TestDNSKindKeepsDigQuoting(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	k, _ := New().Lookup("dns")
	for _, tc := range []struct{ target, typ, want string }{
		{"txt.example.test", "TXT", `"v=spf1 -all" "second string"`},
		{"www.example.test", "TYPE1", "192.0.2.80"},
	} {
		plan, err := k.Prepare(context.Background(), env, tc.target, json.RawMessage(`{"type":"`+tc.typ+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		res, err := plan.Run(context.Background(), func(string, any) {})
		if err != nil {
			t.Fatal(err)
		}
		v := k.Values(res)
		if got, _ := v.Lookup("dns.answers"); len(got.([]string)) != 1 || got.([]string)[0] != tc.want {
			t.Errorf("%s %s: answers %v, want [%s]", tc.target, tc.typ, got, tc.want)
		}
		if ok, _ := v.Lookup("ok"); ok != true {
			t.Errorf("%s: ok=%v", tc.target, ok)
		}
	}
	if _, err := k.Prepare(context.Background(), env, "bücher.example.test", nil); err != nil {
		t.Errorf("an IDN name: %v", err)
	}
}

// TestCheckHostsResolvesThroughTheOwnResolver: a name is checked by the
// addresses the process's own resolver gives (serve --upstream), so a name
// pointing at a private address is refused before anything runs.
func TestCheckHostsResolvesThroughTheOwnResolver(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env.Policy = netpolicy.Default()
	if err := env.CheckHosts(context.Background(), []string{"private.example.test"}); !errors.Is(err, netpolicy.ErrDenied) {
		t.Errorf("a name resolving to 10.1.2.3: %v, want denied", err)
	}
	if err := env.CheckHosts(context.Background(), []string{"public.example.test", "1.2.3.5"}); err != nil {
		t.Errorf("public addresses refused: %v", err)
	}
	if err := env.CheckHosts(context.Background(), []string{"[::ffff:127.0.0.1]"}); !errors.Is(err, netpolicy.ErrDenied) {
		t.Errorf("a v4-mapped loopback address: %v, want denied", err)
	}
}

// TestTraceTargetThroughOwnResolver: a trace's host name is resolved by
// the env's own resolvers (not the system's), then checked by the policy.
func TestTraceTargetThroughOwnResolver(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	env.Policy = netpolicy.Default()
	a, err := env.lookupHost(context.Background(), "www.example.test.", 0)
	if err != nil || a != netip.MustParseAddr("192.0.2.80") {
		t.Fatalf("lookup: %v %v", a, err)
	}
	k, _ := New().Lookup("trace")
	plan, err := k.Prepare(context.Background(), env, "private.example.test", nil)
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	_, err = plan.Run(context.Background(), func(ev string, _ any) { events = append(events, ev) })
	if !errors.Is(err, netpolicy.ErrDenied) || len(events) != 0 {
		t.Errorf("trace to a name of a private address: %v after events %v, want denied before any probe", err, events)
	}
}

func TestStringListTakesOneOrMany(t *testing.T) {
	t.Parallel()
	var o DiagnoseOptions
	for _, raw := range []string{`{"connect_to":"192.0.2.1"}`, `{"connect_to":["192.0.2.1"]}`} {
		if err := decodeOptions(json.RawMessage(raw), &o); err != nil || len(o.ConnectTo) != 1 || o.ConnectTo[0] != "192.0.2.1" {
			t.Errorf("%s: %v %v", raw, o.ConnectTo, err)
		}
	}
}
