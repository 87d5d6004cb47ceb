package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/ratelimit"
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

type rlPolicy = ratelimit.Policy

func tlsConfig(cert tls.Certificate) *tlsCfg {
	return &tlsCfg{Config: tls.Config{Certificates: []tls.Certificate{cert}}}
}

type tlsCfg struct{ Config tls.Config }

func netListen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
