package dnsq_test

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

type delegationTree struct {
	port  int
	roots []dnsq.NSHost
}

func newDelegationTree(t *testing.T) delegationTree {
	tree := dnstest.StartTree(t)
	return delegationTree{port: tree.Port, roots: []dnsq.NSHost{{Name: "a.root.test.", Addrs: []netip.Addr{netip.MustParseAddr(tree.RootIP)}}}}
}

func (d delegationTree) tracer(all bool) *dnsq.Tracer {
	return &dnsq.Tracer{Roots: d.roots, Port: d.port, AllServers: all, Client: &dnsq.Client{Timeout: 300 * time.Millisecond, Tries: 1}}
}

func TestTraceFollowsDelegationsFromTheRoot(t *testing.T) {
	tree := newDelegationTree(t)
	var streamed []string
	res, err := tree.tracer(false).Trace(context.Background(), "www.example.test.", dns.TypeA, func(s dnsq.TraceStep) {
		streamed = append(streamed, s.Kind+" "+s.Zone)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"root .", "referral .", "referral test.", "answer example.test."}
	if strings.Join(streamed, "|") != strings.Join(want, "|") {
		t.Errorf("steps %v, want %v", streamed, want)
	}
	if res.Steps[1].NextZone != "test." || res.Steps[2].NextZone != "example.test." {
		t.Errorf("referrals to %q and %q, want test. and example.test.", res.Steps[1].NextZone, res.Steps[2].NextZone)
	}
	if res.Steps[1].Addr != "127.0.0.10#"+strconv.Itoa(tree.port) || res.Steps[1].Server != "a.root.test." {
		t.Errorf("root step asked %s (%s), want a.root.test. at 127.0.0.10", res.Steps[1].Server, res.Steps[1].Addr)
	}
	if len(res.Answer) != 1 || res.Answer[0].Data != "192.0.2.80" || res.Rcode != "NOERROR" {
		t.Errorf("answer %+v rcode %s, want www A 192.0.2.80 from the first server", res.Answer, res.Rcode)
	}
	if len(res.Findings) != 0 {
		t.Errorf("findings %+v without --all-servers on a healthy path, want none", res.Findings)
	}
}

func TestTraceResolvesGluelessNameServers(t *testing.T) {
	tree := newDelegationTree(t)
	res, err := tree.tracer(false).Trace(context.Background(), "www.glueless.test.", dns.TypeA, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Answer) != 1 || res.Answer[0].Data != "192.0.2.90" {
		t.Fatalf("answer %+v, want 192.0.2.90", res.Answer)
	}
	ref := res.Steps[2]
	if len(ref.Glueless) != 1 || ref.Glueless[0] != "ns.hoster.net." {
		t.Errorf("glueless %v, want [ns.hoster.net.]", ref.Glueless)
	}
}

func TestTraceNXDOMAIN(t *testing.T) {
	tree := newDelegationTree(t)
	res, err := tree.tracer(false).Trace(context.Background(), "missing.example.test.", dns.TypeA, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := res.Steps[len(res.Steps)-1]
	if res.Rcode != "NXDOMAIN" || last.Kind != "answer" || len(last.Records) != 1 || last.Records[0].Type != "SOA" {
		t.Errorf("rcode %s, last step %+v: want NXDOMAIN with the SOA", res.Rcode, last)
	}
}

func TestTraceAllServersReportsDisagreement(t *testing.T) {
	tree := newDelegationTree(t)
	res, err := tree.tracer(true).Trace(context.Background(), "www.example.test.", dns.TypeA, nil)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]dnsq.Finding{}
	for _, f := range res.Findings {
		kinds[f.Kind] = f
	}
	ad, ok := kinds["answer_differs"]
	if !ok || !strings.Contains(ad.Detail, "192.0.2.80") || !strings.Contains(ad.Detail, "192.0.2.81") {
		t.Errorf("findings %+v: want answer_differs naming both addresses", res.Findings)
	}
	sd, ok := kinds["serial_differs"]
	if !ok || !strings.Contains(sd.Detail, "serial 1") || !strings.Contains(sd.Detail, "serial 2") || sd.Zone != "example.test." {
		t.Errorf("findings %+v: want serial_differs 1 vs 2 in example.test.", res.Findings)
	}
}

func TestTraceAllServersFindsLameDelegation(t *testing.T) {
	tree := newDelegationTree(t)
	res, err := tree.tracer(true).Trace(context.Background(), "www.lame.test.", dns.TypeA, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Answer) != 1 || res.Answer[0].Data != "192.0.2.70" {
		t.Errorf("answer %+v, want 192.0.2.70 from the working server", res.Answer)
	}
	var lame []dnsq.Finding
	for _, f := range res.Findings {
		if f.Kind == "lame" {
			lame = append(lame, f)
		}
	}
	if len(lame) != 1 || !strings.Contains(lame[0].Server, "ns1.lame.test.") || !strings.Contains(lame[0].Detail, "REFUSED") || lame[0].Zone != "lame.test." {
		t.Errorf("lame findings %+v: want ns1.lame.test. answering REFUSED for lame.test.", lame)
	}
}
