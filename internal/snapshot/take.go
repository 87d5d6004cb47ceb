package snapshot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// Taker takes snapshots. The zero value asks the domain's name servers,
// found through the system's resolvers, with the default names.
type Taker struct {
	// Servers are the servers to ask (a transfer first, then questions);
	// empty means the domain's authoritative servers, found through
	// Resolvers.
	Servers []dnsq.Server
	// Resolvers find the domain's NS records and their addresses when
	// Servers is empty; empty means /etc/resolv.conf.
	Resolvers []dnsq.Server
	// Client asks Servers (or the servers found): give it the target
	// policy's Dialer. nil means a plain client.
	Client *dnsq.Client
	// ResolverClient asks Resolvers; nil means Client.
	ResolverClient *dnsq.Client
	// Names are asked when no transfer is possible, relative to the domain
	// ("@" is the apex, a name ending in "." is absolute); empty means
	// DefaultNames.
	Names []string
	// Types, when set, are asked of every name instead of DefaultTypes.
	Types []uint16
	// Asked, when set, are the questions (absolute names with their
	// types) instead of Names × Types: see Like.
	Asked []Asked
	// Port is the port of the name servers found through Resolvers; 0
	// means 53.
	Port uint16
	// NoTransfer asks the names without trying a zone transfer.
	NoTransfer bool
	// MaxRecords bounds the records of a snapshot; a bigger zone fails
	// with ErrTooBig. 0 means 100,000.
	MaxRecords int
	// Workers bounds the questions in flight; 0 means 8.
	Workers int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// ErrTooBig is wrapped when a zone has more records than MaxRecords.
var ErrTooBig = errors.New("zone too big")

// skipped are the types a snapshot leaves out: the signer remakes them
// (new signatures, new denial chains), so they would be noise in a diff.
var skipped = []uint16{dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3}

func (t *Taker) client() *dnsq.Client {
	if t.Client != nil {
		return t.Client
	}
	return &dnsq.Client{Timeout: 3 * time.Second, Tries: 2}
}

func (t *Taker) maxRecords() int {
	if t.MaxRecords > 0 {
		return t.MaxRecords
	}
	return 100_000
}

func (t *Taker) now() time.Time {
	if t.Now != nil {
		return t.Now().UTC()
	}
	return time.Now().UTC()
}

// Take takes a snapshot of domain: a transfer from the first server that
// allows one, else the names × types asked of the servers.
func (t *Taker) Take(ctx context.Context, domain string) (*Snapshot, error) {
	zone, err := dnsq.NormalizeName(domain)
	if err != nil {
		return nil, err
	}
	zone = strings.ToLower(zone)
	servers := t.Servers
	if len(servers) == 0 {
		if servers, err = t.authServers(ctx, zone); err != nil {
			return nil, err
		}
	}
	s := &Snapshot{Format: Format, Version: Version, Domain: zone, TakenAt: t.now()}
	if !t.NoTransfer {
		var refusals []string
		for _, srv := range servers {
			rrsets, err := t.transfer(ctx, srv, zone)
			if err == nil {
				s.Method, s.Server, s.RRsets = MethodAXFR, label(srv), rrsets
				s.Serial = serialOf(rrsets, zone)
				return s, nil
			}
			if ctx.Err() != nil || errors.Is(err, ErrTooBig) {
				return nil, err
			}
			refusals = append(refusals, err.Error())
		}
		s.TransferError = strings.Join(refusals, "; ")
	}
	s.Method = MethodNames
	s.Asked = t.asked(zone)
	labels := make([]string, len(servers))
	for i, srv := range servers {
		labels[i] = label(srv)
	}
	s.Server = strings.Join(labels, ", ")
	if s.RRsets, err = t.ask(ctx, servers, s.Asked); err != nil {
		return nil, err
	}
	s.Serial = serialOf(s.RRsets, zone)
	return s, nil
}

// label is how a snapshot names a server: its address, with the name
// it was known by when that differs.
func label(s dnsq.Server) string {
	host, _, _ := net.SplitHostPort(s.Addr)
	if s.Name == "" || s.Name == host {
		return s.String()
	}
	return s.Name + " (" + s.String() + ")"
}

// transfer takes the zone from srv by AXFR.
func (t *Taker) transfer(ctx context.Context, srv dnsq.Server, zone string) ([]RRset, error) {
	c := newCollector(t.maxRecords())
	_, err := t.client().Transfer(ctx, srv, dnsq.XFR{Query: dnsq.Query{Name: zone, Type: dns.TypeAXFR}}, func(m *dns.Msg) error {
		return c.add(m.Answer...)
	})
	if err != nil {
		return nil, err
	}
	return c.rrsets(), nil
}

// Like returns a copy of t that takes a snapshot comparable with s: the
// same questions when s asked names, and no transfer when s did not try
// one.
func (t Taker) Like(s *Snapshot) *Taker {
	if s.Method == MethodNames {
		t.Asked = s.Asked
		t.NoTransfer = t.NoTransfer || s.TransferError == ""
	}
	return &t
}

// asked lists the questions of a names snapshot.
func (t *Taker) asked(zone string) []Asked {
	if len(t.Asked) > 0 {
		return t.Asked
	}
	names := t.Names
	if len(names) == 0 {
		names = DefaultNames
	}
	var out []Asked
	seen := map[string]bool{}
	for _, rel := range names {
		name := absolute(rel, zone)
		if seen[name] {
			continue
		}
		seen[name] = true
		types := t.Types
		if len(types) == 0 {
			types = DefaultTypes(rel)
		}
		a := Asked{Name: name}
		for _, qt := range types {
			a.Types = append(a.Types, dnsq.TypeString(qt))
		}
		out = append(out, a)
	}
	return out
}

// ask sends every question, each to the servers in turn until one
// answers it (NOERROR or NXDOMAIN); a question no server answers fails
// the snapshot, which would otherwise show its records as removed.
func (t *Taker) ask(ctx context.Context, servers []dnsq.Server, asked []Asked) ([]RRset, error) {
	type question struct {
		name string
		qt   uint16
	}
	var qs []question
	for _, a := range asked {
		for _, ts := range a.Types {
			qt, _ := dnsq.ParseType(ts)
			qs = append(qs, question{a.Name, qt})
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := newCollector(t.maxRecords())
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan question)
	workers := t.Workers
	if workers <= 0 {
		workers = 8
	}
	for range min(workers, len(qs)) {
		wg.Go(func() {
			for q := range work {
				rrs, err := t.question(ctx, servers, q.name, q.qt)
				mu.Lock()
				if err == nil {
					err = c.add(rrs...)
				}
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				mu.Unlock()
			}
		})
	}
	for _, q := range qs {
		select {
		case work <- q:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.rrsets(), nil
}

// question asks name/qt and returns the answer's records owned by name.
func (t *Taker) question(ctx context.Context, servers []dnsq.Server, name string, qt uint16) ([]dns.RR, error) {
	var errs []error
	for _, srv := range servers {
		resp, err := t.client().Exchange(ctx, srv, dnsq.Query{Name: name, Type: qt})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if rc := resp.Msg.Rcode; rc != dns.RcodeSuccess && rc != dns.RcodeNameError {
			errs = append(errs, fmt.Errorf("%s answered %s", label(srv), dnsq.RcodeString(rc)))
			continue
		}
		var out []dns.RR
		for _, rr := range resp.Msg.Answer {
			h := rr.Header()
			if dnsq.SameName(h.Name, name) && (h.Rrtype == qt || h.Rrtype == dns.TypeCNAME) {
				out = append(out, rr)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("asking %s %s: %w", name, dnsq.TypeString(qt), errors.Join(errs...))
}

// authServers finds the zone's name servers and their addresses through
// the resolvers.
func (t *Taker) authServers(ctx context.Context, zone string) ([]dnsq.Server, error) {
	resolvers := t.Resolvers
	if len(resolvers) == 0 {
		var err error
		if resolvers, err = dnsq.SystemServers(""); err != nil {
			return nil, fmt.Errorf("finding the name servers of %s: %w", zone, err)
		}
	}
	rc := t.ResolverClient
	if rc == nil {
		rc = t.client()
	}
	lookup := func(name string, qt uint16) (*dns.Msg, error) {
		var errs []error
		for _, r := range resolvers {
			resp, err := rc.Exchange(ctx, r, dnsq.Query{Name: name, Type: qt})
			if err == nil {
				return resp.Msg, nil
			}
			errs = append(errs, err)
		}
		return nil, fmt.Errorf("asking %s %s: %w", name, dnsq.TypeString(qt), errors.Join(errs...))
	}
	m, err := lookup(zone, dns.TypeNS)
	if err != nil {
		return nil, fmt.Errorf("finding the name servers of %s: %w", zone, err)
	}
	if m.Rcode != dns.RcodeSuccess {
		return nil, fmt.Errorf("finding the name servers of %s: the resolver answered %s", zone, dnsq.RcodeString(m.Rcode))
	}
	var hosts []string
	for _, rr := range m.Answer {
		if ns, ok := rr.(*dns.NS); ok && dnsq.SameName(ns.Hdr.Name, zone) {
			hosts = append(hosts, strings.ToLower(ns.Ns))
		}
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("%s has no NS records: it is not a zone's apex; give the zone, or a server to ask (--server)", zone)
	}
	slices.Sort(hosts)
	var out []dnsq.Server
	for _, h := range hosts {
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			m, err := lookup(h, qt)
			if err != nil {
				continue // an unresolvable name server: the others may do
			}
			for _, rr := range m.Answer {
				var a netip.Addr
				switch v := rr.(type) {
				case *dns.A:
					a, _ = netip.AddrFromSlice(v.A.To4())
				case *dns.AAAA:
					a, _ = netip.AddrFromSlice(v.AAAA)
				default:
					continue
				}
				port := t.Port
				if port == 0 {
					port = 53
				}
				out = append(out, dnsq.Server{Transport: dnsq.UDP, Addr: netip.AddrPortFrom(a, port).String(), Name: h})
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no address found for the name servers of %s (%s)", zone, strings.Join(hosts, ", "))
	}
	return out, nil
}

func serialOf(rrsets []RRset, zone string) uint32 {
	for _, rs := range rrsets {
		if rs.Type == "SOA" && rs.Name == zone && len(rs.Data) > 0 {
			if soa, ok := parseSOA(rs.Name, rs.Data[0]); ok {
				return soa.Serial
			}
		}
	}
	return 0
}

func parseSOA(name, data string) (*dns.SOA, bool) {
	rr, err := dns.NewRR(name + " 0 IN SOA " + data)
	if err != nil {
		return nil, false
	}
	soa, ok := rr.(*dns.SOA)
	return soa, ok
}
