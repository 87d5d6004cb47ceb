package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/enrich"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

// traceOptions are the options of a trace measurement.
type traceOptions struct {
	Protocol  string `json:"protocol"`   // icmp (default), udp, tcp
	Port      uint16 `json:"port"`       // udp/tcp destination port
	IPVersion int    `json:"ip_version"` // 4 or 6 for host names; 0 prefers IPv4
	MaxHops   int    `json:"max_hops"`
	Queries   int    `json:"queries"`
	Flows     int    `json:"flows"`
	TimeoutMs int    `json:"timeout_ms"` // per probe
	NoDNS     bool   `json:"no_dns"`
}

// prepareTrace is the trace measurement: one traceroute through the
// server's shared tracer, each hop streamed (with its ASN and place) as it
// changes.
func prepareTrace(ctx context.Context, s *Server, target string, raw json.RawMessage) (runFunc, error) {
	var o traceOptions
	if err := decodeOptions(raw, &o); err != nil {
		return nil, err
	}
	req, err := o.request()
	if err != nil {
		return nil, err
	}
	host := strings.Trim(target, "[]")
	if _, err := netip.ParseAddr(host); err != nil {
		if _, err := targetName(host); err != nil {
			return nil, fieldError("target", "%q is neither an IP address nor a host name", target)
		}
	}
	return func(ctx context.Context, emit func(string, any)) (any, error) {
		addr, err := s.traceTarget(ctx, host, o.IPVersion)
		if err != nil {
			return nil, err
		}
		r := req
		r.Target = addr
		if !o.NoDNS {
			r.Resolver = &traceroute.DNSResolver{Servers: s.cfg.Upstream}
		}
		r.OnHop = func(h traceroute.Hop) {
			enrich.Hop(ctx, s.geo, &h)
			emit("hop", h)
		}
		res, err := s.tracer.Trace(ctx, r)
		if err != nil {
			return nil, err
		}
		enrich.Trace(ctx, s.geo, res)
		return res, nil
	}, nil
}

func (o traceOptions) request() (traceroute.Request, error) {
	p := traceroute.Protocol(o.Protocol)
	switch p {
	case "", traceroute.ICMP, traceroute.UDP, traceroute.TCP:
	default:
		return traceroute.Request{}, fieldError("options.protocol", "%q; want icmp, udp or tcp", o.Protocol)
	}
	switch {
	case o.IPVersion != 0 && o.IPVersion != 4 && o.IPVersion != 6:
		return traceroute.Request{}, fieldError("options.ip_version", "%d; want 4 or 6", o.IPVersion)
	case o.MaxHops < 0 || o.MaxHops > 64:
		return traceroute.Request{}, fieldError("options.max_hops", "%d; want 1 to 64", o.MaxHops)
	case o.Queries < 0 || o.Queries > 5:
		return traceroute.Request{}, fieldError("options.queries", "%d; want 1 to 5 probes per hop", o.Queries)
	case o.Flows < 0 || o.Flows > 16:
		return traceroute.Request{}, fieldError("options.flows", "%d; want 1 to 16", o.Flows)
	case o.TimeoutMs < 0 || o.TimeoutMs > 5000:
		return traceroute.Request{}, fieldError("options.timeout_ms", "%d; want 1 to 5000 milliseconds per probe", o.TimeoutMs)
	}
	return traceroute.Request{Protocol: p, Port: o.Port, MaxHops: o.MaxHops, Queries: o.Queries, Flows: o.Flows,
		Timeout: time.Duration(o.TimeoutMs) * time.Millisecond}, nil
}

// traceTarget resolves the target and applies the policy to the address
// that will be probed.
func (s *Server) traceTarget(ctx context.Context, host string, version int) (netip.Addr, error) {
	addr, err := netip.ParseAddr(host)
	if err != nil {
		network := "ip4"
		if version == 6 {
			network = "ip6"
		}
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, lerr := s.resolver.LookupNetIP(lctx, network, host)
		if lerr != nil && version == 0 {
			addrs, lerr = s.resolver.LookupNetIP(lctx, "ip6", host)
		}
		if lerr != nil || len(addrs) == 0 {
			return netip.Addr{}, fmt.Errorf("resolving %s: %w", host, errors.Join(lerr, errors.New("no address")))
		}
		addr = addrs[0]
	}
	addr = addr.Unmap()
	if err := s.cfg.Policy.Check(addr); err != nil {
		return netip.Addr{}, err
	}
	return addr, nil
}
