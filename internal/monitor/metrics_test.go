package monitor

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dnsscience/dnsscience/internal/dnstest"
)

const resolverZone = `
$TTL 300
@    IN SOA ns1 host 1 3600 600 86400 60
@    IN NS  ns1
ns1  IN A   192.0.2.53
api  IN A   203.0.113.10
`

// TestPerResolverMetrics: a propagation check over two loopback resolvers
// that disagree exports each resolver's answer and that they disagree;
// once both agree, agreement is 1.
func TestPerResolverMetrics(t *testing.T) {
	t.Parallel()
	a := dnstest.Start(t, dnstest.NewZone(t, "example.test.", resolverZone)).Addr
	b := dnstest.Start(t, dnstest.NewZone(t, "example.test.", strings.Replace(resolverZone, "203.0.113.10", "203.0.113.99", 1))).Addr
	c := dnstest.Start(t, dnstest.NewZone(t, "example.test.", resolverZone)).Addr
	dir := t.TempDir()
	suite := filepath.Join(dir, "dns.yaml")
	write := func(second string) {
		writeSuite(t, suite, `checks:
  - name: api propagation
    kind: propagation
    target: api.example.test
    interval: 1s
    options: {resolvers: ['`+a+`', '`+second+`']}
`)
	}
	write(b)
	h, l := startMonitor(t, nil, dir, NewFakeClock(t0))
	defer h.stop()
	if r := h.run(t); r.Outcome != OutcomeFail {
		t.Fatalf("resolvers that disagree: outcome %s; want fail", r.Outcome)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(h.m.Collector())
	if got := gaugeValue(t, reg, "dnsscience_check_dns_resolvers_agree", "check", "api-propagation"); got != 0 {
		t.Errorf("resolvers_agree = %g; want 0 (two answers)", got)
	}
	for _, r := range []string{a, b} {
		if got := gaugeValue(t, reg, "dnsscience_check_dns_resolver_answered", "resolver", r); got != 1 {
			t.Errorf("resolver_answered{resolver=%q} = %g; want 1", r, got)
		}
		if got := gaugeValue(t, reg, "dnsscience_check_dns_resolver_answers", "resolver", r); got != 1 {
			t.Errorf("resolver_answers{resolver=%q} = %g; want 1 record", r, got)
		}
		if got := gaugeValue(t, reg, "dnsscience_check_dns_resolver_rtt_seconds", "resolver", r); got <= 0 || got > 5 {
			t.Errorf("resolver_rtt_seconds{resolver=%q} = %g; want a measured time", r, got)
		}
	}
	promtoolCheck(t, h.m.Collector())

	write(c) // a server with the same data as the first: they agree
	if errs := l.Reload(); len(errs) != 0 {
		t.Fatal(errs)
	}
	if r := h.run(t); r.Outcome != OutcomeOK {
		t.Fatalf("resolvers that agree: outcome %s %s; want ok", r.Outcome, r.Error)
	}
	if got := gaugeValue(t, reg, "dnsscience_check_dns_resolvers_agree", "check", "api-propagation"); got != 1 {
		t.Errorf("resolvers_agree = %g; want 1", got)
	}
}
