package server

import (
	"context"
	"errors"
	"strings"

	"github.com/miekg/dns"
)

type ctxT = context.Context

var errDown = errors.New("database is down")

// dnsHandlerMux sends each query to the zone that holds its name, like a
// small recursive resolver in front of several zones.
type dnsHandlerMux map[string]dns.Handler

func (m dnsHandlerMux) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	if len(r.Question) == 1 {
		name := strings.ToLower(r.Question[0].Name)
		for origin, h := range m {
			if dns.IsSubDomain(origin, name) {
				h.ServeDNS(w, r)
				return
			}
		}
	}
	msg := new(dns.Msg)
	msg.SetRcode(r, dns.RcodeRefused)
	_ = w.WriteMsg(msg)
}
