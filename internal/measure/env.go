package measure

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/probe"
)

func (e *Env) dialer() probe.Dialer {
	if e.Dialer != nil {
		return e.Dialer
	}
	return netpolicy.AllowAll().Dialer()
}

func (e *Env) upstream() ([]dnsq.Server, error) {
	if len(e.Upstream) > 0 {
		return e.Upstream, nil
	}
	s, err := dnsq.SystemServers(e.ResolvConf)
	if err != nil {
		return nil, fmt.Errorf("reading the system's resolvers: %w", err)
	}
	return s, nil
}

func (e *Env) resolverList() []dnsq.Resolver {
	if len(e.Resolvers) > 0 {
		return e.Resolvers
	}
	return dnsq.ShippedResolvers()
}

// findResolver finds an entry by name in the environment's list.
func (e *Env) findResolver(name string) (dnsq.Resolver, bool) {
	if len(e.Resolvers) > 0 {
		return dnsq.FindResolver(name, e.Resolvers)
	}
	return dnsq.FindShippedResolver(name)
}

func (e *Env) dnsTimeout() time.Duration {
	if e.DNSTimeout > 0 {
		return e.DNSTimeout
	}
	return 3 * time.Second
}

// dnsClient sends queries; trusted servers (the process's own and the
// named ones) are not targets, so no policy applies to them.
func (e *Env) dnsClient(trusted bool, timeout time.Duration) *dnsq.Client {
	c := &dnsq.Client{Timeout: e.dnsTimeout(), Tries: 2}
	if timeout > 0 {
		c.Timeout = timeout / 2
	}
	if !trusted {
		c.Dialer = e.dialer()
	}
	return c
}

func (e *Env) geoDB() *geo.DB {
	if e.Geo == nil {
		return nil
	}
	return e.Geo()
}

// rootCAs is the trust for a measurement: its own CA (PEM), or the env's.
func (e *Env) rootCAs(field, pem string) (*x509.CertPool, error) {
	if strings.TrimSpace(pem) == "" {
		return e.RootCAs, nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(pem)) {
		return nil, fieldErr(field, "no PEM certificate in it; give the CA certificates as PEM text (suites and the CLI: a file)")
	}
	return pool, nil
}

// resolver turns a resolver entry — a name from the list, or a server
// (1.1.1.1, [::1]:53, tls://host, https://host/dns-query) — into a
// dnsq.Resolver; trusted is true for named ones.
func (e *Env) resolver(field, entry string) (dnsq.Resolver, bool, error) {
	named, srv, err := e.lookupEntry(field, entry)
	if err != nil || named != nil {
		return deref(named), named != nil, err
	}
	return asResolver(srv), false, nil
}

// server turns a resolver entry into one server to query (UDP for named ones).
func (e *Env) server(field, entry string) (dnsq.Server, bool, error) {
	named, srv, err := e.lookupEntry(field, entry)
	if err != nil || named == nil {
		return srv, false, err
	}
	s, err := named.Server(dnsq.UDP)
	if err != nil {
		return dnsq.Server{}, false, fieldErr(field, "%v", err)
	}
	return s, true, nil
}

// lookupEntry reads a resolver entry: a name from the list (named is set)
// or a server address (srv).
func (e *Env) lookupEntry(field, entry string) (named *dnsq.Resolver, srv dnsq.Server, err error) {
	if r, ok := e.findResolver(entry); ok {
		return &r, dnsq.Server{}, nil
	}
	srv, perr := dnsq.ParseServer(entry)
	if perr != nil {
		return nil, dnsq.Server{}, fieldErr(field, "%q is neither a known resolver name (GET /api/v1/resolvers, dnsscience resolvers) nor a server address: %v", entry, perr)
	}
	return nil, srv, nil
}

func deref(r *dnsq.Resolver) dnsq.Resolver {
	if r == nil {
		return dnsq.Resolver{}
	}
	return *r
}

// asResolver describes a parsed server as a dnsq.Resolver.
func asResolver(s dnsq.Server) dnsq.Resolver {
	rv := dnsq.Resolver{Name: s.String()}
	switch s.Transport {
	case dnsq.TLS:
		rv.DoT = s.Addr
	case dnsq.HTTPS:
		rv.DoH = s.Addr
	default:
		host, port, _ := net.SplitHostPort(s.Addr)
		if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
			rv.IPv6 = []string{host}
		} else {
			rv.IPv4 = []string{host}
		}
		rv.Port, _ = strconv.Atoi(port)
	}
	return rv
}

// lookupHost asks the process's own resolvers for the first address of
// name: A then AAAA, or only one family when version is 4 or 6.
func (e *Env) lookupHost(ctx context.Context, name string, version int) (netip.Addr, error) {
	addrs, err := e.lookup(ctx, name, version, true)
	if err != nil {
		return netip.Addr{}, err
	}
	return addrs[0], nil
}

// lookup asks the process's own resolvers for name's addresses (A and
// AAAA, or one family), stopping at the first found when first is set.
func (e *Env) lookup(ctx context.Context, name string, version int, first bool) ([]netip.Addr, error) {
	servers, err := e.upstream()
	if err != nil {
		return nil, err
	}
	types := []uint16{dns.TypeA, dns.TypeAAAA}
	switch version {
	case 4:
		types = types[:1]
	case 6:
		types = types[1:]
	}
	client := e.dnsClient(true, 0)
	var errs []error
	var out []netip.Addr
	for _, qt := range types {
		for _, srv := range servers {
			resp, err := client.Exchange(ctx, srv, dnsq.Query{Name: name, Type: qt})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = appendAddrs(out, resp.Msg)
			break // this server answered: go on with the other family
		}
		if first && len(out) > 0 {
			return out, nil
		}
	}
	if len(out) > 0 {
		return out, nil
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("resolving %s: %w", name, errors.Join(errs...))
	}
	return nil, fmt.Errorf("resolving %s: no address", name)
}

func appendAddrs(out []netip.Addr, m *dns.Msg) []netip.Addr {
	for _, rr := range m.Answer {
		switch r := rr.(type) {
		case *dns.A:
			if a, ok := netip.AddrFromSlice(r.A.To4()); ok {
				out = append(out, a)
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(r.AAAA); ok {
				out = append(out, a)
			}
		}
	}
	return out
}

// hostAddr parses an IP address target or validates a host name.
func hostAddr(field, host string) (netip.Addr, string, error) {
	host = strings.Trim(host, "[]")
	if a, err := netip.ParseAddr(host); err == nil {
		if a.Zone() != "" {
			return netip.Addr{}, "", fieldErr(field, "%s: zoned (link-local) addresses are not supported", a)
		}
		return a.Unmap(), "", nil
	}
	name, err := dnsq.NormalizeName(host)
	if err != nil || strings.ContainsAny(host, "/:@") {
		return netip.Addr{}, "", fieldErr(field, "%q is neither an IP address nor a host name", host)
	}
	return netip.Addr{}, name, nil
}

// CheckHosts applies the target policy, before anything runs, to each
// host a plan connects to: an address directly, a name by every address
// the process's own resolvers give for it. A name that does not resolve
// passes (the measurement reports it); the dialer checks again at connect
// time, which also covers redirects and DNS changes.
func (e *Env) CheckHosts(ctx context.Context, hosts []string) error {
	if e.Policy.AllowsAll() {
		return nil
	}
	for _, h := range hosts {
		h = strings.Trim(h, "[]")
		if a, err := netip.ParseAddr(h); err == nil {
			if err := e.Policy.Check(a.Unmap()); err != nil {
				return err
			}
			continue
		}
		lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		addrs, _ := e.lookup(lctx, strings.TrimSuffix(h, ".")+".", 0, false)
		cancel()
		for _, a := range addrs {
			if err := e.Policy.Check(a.Unmap()); err != nil {
				return fmt.Errorf("%s resolves to %w", h, err)
			}
		}
	}
	return nil
}

// ValidResolver says what is wrong with a resolver entry (a name from the
// list or a server address), or nil.
func (e *Env) ValidResolver(entry string) error {
	_, _, err := e.resolver("resolver", entry)
	var fe *FieldError
	if errors.As(err, &fe) {
		return errors.New(fe.Detail)
	}
	return err
}

// tlsConfig is the TLS configuration of DoT and DoH queries: the
// measurement's own CA, or the env's, or the system roots.
func (e *Env) tlsConfig(t TrustOptions) (*tls.Config, error) {
	pool, err := e.rootCAs("options.ca", t.CA)
	if err != nil {
		return nil, err
	}
	if pool == nil && !t.Insecure {
		return nil, nil
	}
	return &tls.Config{RootCAs: pool, InsecureSkipVerify: t.Insecure}, nil //nolint:gosec // the user asked for it
}
