package dnsq_test

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

// TestTraceAllServersAgainstKnot runs a delegation served by knotd in which
// the two test. servers and the two sub.test. servers have different
// serials, the parent's NS set and glue for sub.test. differ from the
// child's (ns3 is not in the child at all), and one name server never
// answers. Every disagreement must be
// found once, and the dead server asked once.
func TestTraceAllServersAgainstKnot(t *testing.T) {
	t.Parallel()
	port := dnstest.FreePort(t)
	soa := func(serial int) string {
		return "$TTL 3600\n@ SOA ns h " + strconv.Itoa(serial) + " 7200 3600 1209600 300\n"
	}
	knot := func(ip, origin, text string) {
		dnstest.StartKnot(t, dnstest.Knot{IP: ip, Port: port, Zones: map[string]string{origin: "$ORIGIN " + dns.Fqdn(origin) + "\n" + text}})
	}
	tld := "@ NS ns1\n@ NS ns2\nns1 A 127.0.0.41\nns2 A 127.0.0.46\n" +
		"sub NS ns1.sub\nsub NS ns2.sub\nsub NS ns3.sub\nns1.sub A 127.0.0.42\nns2.sub A 127.0.0.43\nns3.sub A 127.0.0.44\n"
	child := "@ NS ns1\n@ NS ns2\n@ NS ns4\nns1 A 127.0.0.42\nns2 A 127.0.0.45\nns4 A 127.0.0.42\nwww A 192.0.2.1\n"
	knot("127.0.0.40", ".", soa(1)+"@ NS a.root.\na.root. A 127.0.0.40\ntest. NS ns1.test.\ntest. NS ns2.test.\nns1.test. A 127.0.0.41\nns2.test. A 127.0.0.46\n")
	knot("127.0.0.41", "test", soa(1)+tld)
	knot("127.0.0.46", "test", soa(5)+tld)
	knot("127.0.0.42", "sub.test", soa(1)+child)
	knot("127.0.0.43", "sub.test", soa(2)+child)
	var deadQueries atomic.Int64
	dead, err := dnstest.Listen("127.0.0.44", strconv.Itoa(port), dns.HandlerFunc(func(dns.ResponseWriter, *dns.Msg) { deadQueries.Add(1) }))
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.44:%d: %v", port, err)
	}
	t.Cleanup(dead.Close)

	tr := &dnsq.Tracer{
		Roots: []dnsq.NSHost{{Name: "a.root.", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.40")}}},
		Port:  port, AllServers: true, Client: &dnsq.Client{Timeout: 300 * time.Millisecond, Tries: 1},
	}
	res, err := tr.Trace(context.Background(), "www.sub.test.", dns.TypeA, nil)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	var all []string
	for _, f := range res.Findings {
		count[f.Kind+" "+f.Zone+" "+f.Server]++
		all = append(all, f.Kind+" "+f.Zone+" "+f.Server+": "+f.Detail)
	}
	for _, want := range []string{
		"serial_differs test. ", "serial_differs sub.test. ", "ns_differs sub.test. ",
		"glue_differs sub.test. ns2.sub.test.", "unreachable sub.test. ns3.sub.test. (127.0.0.44)",
	} {
		if count[want] != 1 {
			t.Errorf("finding %q seen %d times, want once; findings:\n%s", want, count[want], strings.Join(all, "\n"))
		}
	}
	if len(res.Findings) != 5 {
		t.Errorf("%d findings, want 5 (ns3, which the child does not list, has no address there to compare):\n%s", len(res.Findings), strings.Join(all, "\n"))
	}
	if n := deadQueries.Load(); n != 1 {
		t.Errorf("the dead server was asked %d times, want once", n)
	}
}
