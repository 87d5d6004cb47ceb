package dnstest

import (
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Rcode answers every query with the given rcode and nothing else
// (SERVFAIL, REFUSED ...).
func Rcode(rcode int) dns.Handler {
	return dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(req, rcode)
		_ = w.WriteMsg(m)
	})
}

// Silent never answers: queries to it time out.
func Silent() dns.Handler {
	return dns.HandlerFunc(func(dns.ResponseWriter, *dns.Msg) {})
}

// DropFirst drops the first n queries it receives and passes the rest to h,
// to test retries.
func DropFirst(n int, h dns.Handler) dns.Handler {
	var mu sync.Mutex
	seen := 0
	return dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		mu.Lock()
		seen++
		drop := seen <= n
		mu.Unlock()
		if !drop {
			h.ServeDNS(w, req)
		}
	})
}

// Delay answers through h after waiting d, like a slow or distant server.
func Delay(d time.Duration, h dns.Handler) dns.Handler {
	return dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		time.Sleep(d)
		h.ServeDNS(w, req)
	})
}

// NoEDNS answers like a server from before EDNS (RFC 6891 §7): FORMERR with
// no OPT record to any query that carries one, and h for the rest.
func NoEDNS(h dns.Handler) dns.Handler {
	return dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		if r.IsEdns0() == nil {
			h.ServeDNS(w, r)
			return
		}
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeFormatError)
		m.Extra = nil
		_ = w.WriteMsg(m)
	})
}
