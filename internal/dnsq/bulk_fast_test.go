package dnsq

import (
	"net"
	"reflect"
	"testing"

	"github.com/miekg/dns"
)

// TestFastReplyMatchesUnpack: the wire shortcut gives the rcode and answer
// records the full unpacking gives, for the replies it takes (A answers,
// compressed names, NXDOMAIN with an SOA, an extended rcode in the OPT),
// and declines the others (CNAME chains, truncation, malformed data).
func TestFastReplyMatchesUnpack(t *testing.T) {
	a := func(name, ip string, ttl uint32) dns.RR {
		return &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl}, A: net.ParseIP(ip)}
	}
	soa := &dns.SOA{Hdr: dns.RR_Header{Name: "example.test.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 300},
		Ns: "ns1.example.test.", Mbox: "h.example.test.", Serial: 1, Refresh: 2, Retry: 3, Expire: 4, Minttl: 5}
	reply := func(rcode int, compress bool, answer []dns.RR, ns []dns.RR, edns bool) []byte {
		m := new(dns.Msg)
		m.SetQuestion("WwW.Example.test.", dns.TypeA)
		m.Response, m.Rcode, m.Compress, m.Answer, m.Ns = true, rcode, compress, answer, ns
		if edns {
			m.SetEdns0(1232, false)
		}
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	taken := [][]byte{
		reply(dns.RcodeSuccess, true, []dns.RR{a("www.example.test.", "192.0.2.1", 60), a("www.example.test.", "10.0.0.255", 0)}, nil, true),
		reply(dns.RcodeSuccess, false, []dns.RR{a("w\\.x.example.test.", "192.0.2.2", 3600)}, nil, false),
		reply(dns.RcodeNameError, true, nil, []dns.RR{soa}, true),
		reply(dns.RcodeBadVers, true, nil, nil, true), // 16: the upper bits are in the OPT record
		reply(dns.RcodeServerFailure, true, nil, nil, false),
	}
	for i, b := range taken {
		rcode, answer, ok := fastReply(b)
		if !ok {
			t.Errorf("reply %d: declined, want it read", i)
			continue
		}
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			t.Fatal(err)
		}
		if rcode != m.Rcode || !reflect.DeepEqual(answer, bulkRecords(m.Answer)) {
			t.Errorf("reply %d: got %d %+v, full unpacking %d %+v", i, rcode, answer, m.Rcode, bulkRecords(m.Answer))
		}
	}
	cname := &dns.CNAME{Hdr: dns.RR_Header{Name: "www.example.test.", Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60}, Target: "x.example.test."}
	tc := reply(dns.RcodeSuccess, true, nil, nil, true)
	tc[2] |= 0x02
	ok := reply(dns.RcodeSuccess, true, []dns.RR{a("www.example.test.", "192.0.2.1", 60)}, nil, true)
	for name, b := range map[string][]byte{
		"CNAME":     reply(dns.RcodeSuccess, true, []dns.RR{cname, a("x.example.test.", "192.0.2.1", 60)}, nil, false),
		"truncated": tc,
		"cut short": ok[:len(ok)-13],
		"header":    ok[:11],
	} {
		if _, _, took := fastReply(b); took {
			t.Errorf("%s: read, want it left to the full unpacking", name)
		}
	}
}
