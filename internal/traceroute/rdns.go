package traceroute

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/miekg/dns"
)

// ReverseResolver finds the name of an address (a PTR lookup).
type ReverseResolver interface {
	LookupAddr(ctx context.Context, addr netip.Addr) (string, error)
}

// ErrNoName is returned when an address has no PTR record.
var ErrNoName = errors.New("no reverse name")

// DNSResolver is a ReverseResolver that asks DNS servers for PTR records
// with the dnsq client and caches the answers (names and misses) for the
// life of the resolver. The zero value asks the servers of
// /etc/resolv.conf with a 1 s timeout per try and 2 tries.
type DNSResolver struct {
	// Servers are asked in order until one answers; nil means the system
	// servers (dnsq.SystemServers).
	Servers []dnsq.Server
	// Client sends the queries; nil means a client with a 1 s timeout and
	// 2 tries.
	Client *dnsq.Client

	mu    sync.Mutex
	cache map[netip.Addr]string
}

// LookupAddr returns the first PTR name of addr, without the trailing dot.
func (r *DNSResolver) LookupAddr(ctx context.Context, addr netip.Addr) (string, error) {
	r.mu.Lock()
	name, ok := r.cache[addr]
	r.mu.Unlock()
	if ok {
		if name == "" {
			return "", ErrNoName
		}
		return name, nil
	}
	name, err := r.lookup(ctx, addr)
	if err != nil && !errors.Is(err, ErrNoName) {
		return "", err
	}
	r.mu.Lock()
	if r.cache == nil {
		r.cache = map[netip.Addr]string{}
	}
	r.cache[addr] = name
	r.mu.Unlock()
	if name == "" {
		return "", ErrNoName
	}
	return name, nil
}

func (r *DNSResolver) lookup(ctx context.Context, addr netip.Addr) (string, error) {
	servers := r.Servers
	if servers == nil {
		s, err := dnsq.SystemServers("")
		if err != nil {
			return "", err
		}
		servers = s
	}
	client := r.Client
	if client == nil {
		client = &dnsq.Client{Timeout: defaultDNSTry, Tries: 2}
	}
	qname, err := dnsq.ReverseName(addr.String())
	if err != nil {
		return "", err
	}
	var errs []error
	for _, srv := range servers {
		resp, err := client.Exchange(ctx, srv, dnsq.Query{Name: qname, Type: dns.TypePTR})
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		for _, rr := range resp.Msg.Answer {
			if ptr, ok := rr.(*dns.PTR); ok {
				return strings.TrimSuffix(ptr.Ptr, "."), nil
			}
		}
		if resp.Msg.Rcode == dns.RcodeSuccess || resp.Msg.Rcode == dns.RcodeNameError {
			return "", ErrNoName
		}
		errs = append(errs, fmt.Errorf("%s answered %s", srv, dns.RcodeToString[resp.Msg.Rcode]))
	}
	return "", fmt.Errorf("looking up %s: %w", qname, errors.Join(errs...))
}
