package dnsq

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed resolvers.yaml
var shippedResolvers []byte

// ErrUnknownResolver is returned when a resolver name is in no list.
var ErrUnknownResolver = errors.New("unknown resolver")

// Resolver is one entry of a resolver list: the shipped public resolvers or
// a user's YAML file of the same schema.
type Resolver struct {
	Name     string   `yaml:"name" json:"name"`
	Operator string   `yaml:"operator" json:"operator,omitempty"`
	IPv4     []string `yaml:"ipv4" json:"ipv4,omitempty"`
	IPv6     []string `yaml:"ipv6" json:"ipv6,omitempty"`
	// Port for plain DNS; 0 means 53. Lets tests list loopback stand-ins.
	Port     int       `yaml:"port" json:"port,omitempty"`
	DoT      string    `yaml:"dot" json:"dot,omitempty"` // DoT host[:port]
	DoH      string    `yaml:"doh" json:"doh,omitempty"` // DoH URL
	DoQ      string    `yaml:"doq" json:"doq,omitempty"` // DoQ host[:port] (RFC 9250)
	Location *Location `yaml:"location" json:"location,omitempty"`
}

// Location is where a resolver is, roughly, for maps.
type Location struct {
	City    string  `yaml:"city" json:"city,omitempty"`
	Country string  `yaml:"country" json:"country,omitempty"`
	Lat     float64 `yaml:"lat" json:"lat"`
	Lon     float64 `yaml:"lon" json:"lon"`
}

// Server returns the resolver's plain-DNS server on its first IPv4 address
// (first IPv6 when it has none), or the transport asked for.
func (r Resolver) Server(t Transport) (Server, error) {
	switch t {
	case TLS:
		return r.tlsServer(TLS, r.DoT, "DoT")
	case QUIC:
		return r.tlsServer(QUIC, r.DoQ, "DoQ")
	case HTTPS:
		if r.DoH == "" {
			return Server{}, fmt.Errorf("resolver %s has no DoH endpoint", r.Name)
		}
		s, err := ParseServer(r.DoH)
		if err != nil {
			return Server{}, err
		}
		if u, err := url.Parse(s.Addr); err == nil && net.ParseIP(u.Hostname()) == nil {
			s.Bootstrap = r.addrs()
		}
		s.Name = r.Name
		return s, nil
	}
	addrs := r.addrs()
	if len(addrs) == 0 {
		return Server{}, fmt.Errorf("resolver %s has no address", r.Name)
	}
	port := r.Port
	if port == 0 {
		port = 53
	}
	if t == "" {
		t = UDP
	}
	return Server{Transport: t, Addr: net.JoinHostPort(addrs[0], fmt.Sprint(port)), Name: r.Name}, nil
}

// tlsServer is the entry's DoT or DoQ endpoint: reached at the entry's own
// address when the endpoint is a host name, verified against that name.
func (r Resolver) tlsServer(t Transport, endpoint, what string) (Server, error) {
	if endpoint == "" {
		return Server{}, fmt.Errorf("resolver %s has no %s endpoint", r.Name, what)
	}
	s, err := ParseServer(string(t) + "://" + endpoint)
	if err != nil {
		return Server{}, err
	}
	host, port, _ := net.SplitHostPort(s.Addr)
	s.TLSName = host
	if addrs := r.addrs(); len(addrs) > 0 && net.ParseIP(host) == nil {
		s.Addr = net.JoinHostPort(addrs[0], port)
	}
	s.Name = r.Name
	return s, nil
}

// addrs lists the entry's addresses, IPv4 first.
func (r Resolver) addrs() []string { return append(append([]string{}, r.IPv4...), r.IPv6...) }

// ShippedResolvers returns the public resolvers that ship with dnsscience:
// a copy of the embedded list, parsed once per process (a monitor asks for
// it on every DNS run).
func ShippedResolvers() []Resolver {
	rs := parsedShipped()
	out := make([]Resolver, len(rs))
	for i, r := range rs {
		out[i] = r.clone()
	}
	return out
}

// FindShippedResolver finds a shipped resolver by name (any case) without
// copying the whole list.
func FindShippedResolver(name string) (Resolver, bool) {
	r, ok := FindResolver(name, parsedShipped())
	return r.clone(), ok
}

// clone copies the entry and what it points to.
func (r Resolver) clone() Resolver {
	r.IPv4, r.IPv6 = slices.Clone(r.IPv4), slices.Clone(r.IPv6)
	if r.Location != nil {
		loc := *r.Location
		r.Location = &loc
	}
	return r
}

// parsedShipped parses the embedded list once; the file is checked by
// tests, so an error cannot happen at run time.
var parsedShipped = sync.OnceValue(func() []Resolver {
	rs, err := parseResolvers(shippedResolvers, "shipped list")
	if err != nil {
		panic(err)
	}
	return rs
})

// LoadResolvers reads a YAML resolver list (a sequence of entries with the
// schema of Resolver).
func LoadResolvers(path string) ([]Resolver, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading resolver list: %w", err)
	}
	return parseResolvers(b, path)
}

func parseResolvers(b []byte, src string) ([]Resolver, error) {
	var rs []Resolver
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&rs); err != nil {
		return nil, fmt.Errorf("parsing resolver list %s: %w", src, err)
	}
	seen := map[string]bool{}
	var errs []error
	for i, r := range rs {
		switch {
		case r.Name == "":
			errs = append(errs, fmt.Errorf("%s: entry %d has no name", src, i+1))
		case seen[r.Name]:
			errs = append(errs, fmt.Errorf("%s: resolver %q is listed twice", src, r.Name))
		case len(r.IPv4)+len(r.IPv6) == 0 && r.DoT == "" && r.DoH == "" && r.DoQ == "":
			errs = append(errs, fmt.Errorf("%s: resolver %q has no ipv4, ipv6, dot, doh or doq", src, r.Name))
		}
		seen[r.Name] = true
		errs = append(errs, r.checkEndpoints(src)...)
		for _, a := range append(append([]string{}, r.IPv4...), r.IPv6...) {
			if _, err := netip.ParseAddr(a); err != nil {
				errs = append(errs, fmt.Errorf("%s: resolver %q: %q is not an IP address", src, r.Name, a))
			}
		}
	}
	if len(rs) == 0 {
		errs = append(errs, fmt.Errorf("%s: no resolvers", src))
	}
	return rs, errors.Join(errs...)
}

// FindResolver looks a resolver up by name (case-insensitive) in lists, in
// order.
func FindResolver(name string, lists ...[]Resolver) (Resolver, bool) {
	for _, l := range lists {
		for _, r := range l {
			if strings.EqualFold(r.Name, name) {
				return r, true
			}
		}
	}
	return Resolver{}, false
}

// ResolveServer parses server syntax like ParseServer, but a host that names
// a resolver in lists (the shipped list when none is given) (@cloudflare, tls://quad9, https://google) stands for
// that resolver's endpoint for the transport.
func ResolveServer(s string, lists ...[]Resolver) (Server, error) {
	if len(lists) == 0 {
		lists = [][]Resolver{ShippedResolvers()}
	}
	in := strings.TrimPrefix(s, "@")
	scheme, rest, hasScheme := strings.Cut(in, "://")
	host := in
	if hasScheme {
		host = rest
	}
	if r, ok := FindResolver(strings.TrimSuffix(host, "/"), lists...); ok {
		t := UDP
		if hasScheme {
			switch strings.ToLower(scheme) {
			case "tcp":
				t = TCP
			case "tls", "dot":
				t = TLS
			case "https", "doh":
				t = HTTPS
			case "quic", "doq":
				t = QUIC
			}
		}
		return r.Server(t)
	}
	return ParseServer(s)
}

// checkEndpoints validates an entry's port and its DoT and DoH endpoints,
// so that a bad list fails when loaded rather than at query time.
func (r Resolver) checkEndpoints(src string) []error {
	var errs []error
	if r.Port < 0 || r.Port > 65535 {
		errs = append(errs, fmt.Errorf("%s: resolver %q: port %d is not from 1 to 65535", src, r.Name, r.Port))
	}
	if r.DoT != "" {
		if _, err := ParseServer("tls://" + r.DoT); err != nil {
			errs = append(errs, fmt.Errorf("%s: resolver %q: dot: %w", src, r.Name, err))
		}
	}
	if r.DoQ != "" {
		if _, err := ParseServer("quic://" + r.DoQ); err != nil {
			errs = append(errs, fmt.Errorf("%s: resolver %q: doq: %w", src, r.Name, err))
		}
	}
	if r.DoH != "" {
		if _, err := ParseServer(r.DoH); err != nil {
			errs = append(errs, fmt.Errorf("%s: resolver %q: doh: %w", src, r.Name, err))
		}
	}
	return errs
}
