// Package netpolicy decides which target addresses a caller may reach. The
// decision is made at dial time, after DNS resolution, on the address the
// socket is about to connect to, so a host name that resolves to a forbidden
// address is refused as well.
package netpolicy

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrDenied is wrapped by every refusal; the message names the address and
// the rule that refused it.
var ErrDenied = errors.New("address denied by policy")

// Rule is a named address range.
type Rule struct {
	Name   string       `json:"name"`
	Prefix netip.Prefix `json:"prefix"`
}

// Policy is a set of denied ranges and allowed exceptions. When an address
// matches both, the most specific range (longest prefix) wins and ties go
// to allow: Allow(169.254.0.0/16) does not open the metadata address
// 169.254.169.254/32 that Default denies, Allow(169.254.169.254/32) does.
// A nil *Policy allows everything. A Policy is immutable once built; Allow
// and Deny return widened or narrowed copies, so it is safe for concurrent
// use.
type Policy struct {
	deny  []Rule
	allow []netip.Prefix
}

// AllowAll returns a policy that allows every address (the CLI default).
func AllowAll() *Policy { return &Policy{} }

// Default returns the server policy: it denies private, loopback,
// link-local, CGNAT, documentation, benchmarking, multicast and reserved
// ranges, IPv6 forms that embed IPv4 (NAT64, 6to4, Teredo) and cloud
// metadata addresses. IPv4-mapped IPv6 addresses are judged as the IPv4
// address they map.
func Default() *Policy {
	p := &Policy{}
	for _, r := range defaultRules {
		p.deny = append(p.deny, Rule{Name: r[0], Prefix: netip.MustParsePrefix(r[1])})
	}
	return p
}

// defaultRules lists name, prefix. Sources: IANA IPv4 and IPv6 Special-Purpose
// Address Registries, RFC 6598 (CGNAT), RFC 9637 (3fff::/20), cloud metadata
// endpoints (AWS, GCP, Azure, Alibaba, AWS ECS, AWS IMDS over IPv6).
var defaultRules = [][2]string{
	{"cloud-metadata", "169.254.169.254/32"},
	{"cloud-metadata", "169.254.170.2/32"},
	{"cloud-metadata", "100.100.100.200/32"},
	{"cloud-metadata", "fd00:ec2::254/128"},
	{"this-network", "0.0.0.0/8"},
	{"private", "10.0.0.0/8"},
	{"cgnat", "100.64.0.0/10"},
	{"loopback", "127.0.0.0/8"},
	{"link-local", "169.254.0.0/16"},
	{"private", "172.16.0.0/12"},
	{"reserved", "192.0.0.0/24"},
	{"documentation", "192.0.2.0/24"},
	{"reserved", "192.88.99.0/24"},
	{"private", "192.168.0.0/16"},
	{"benchmarking", "198.18.0.0/15"},
	{"documentation", "198.51.100.0/24"},
	{"documentation", "203.0.113.0/24"},
	{"multicast", "224.0.0.0/4"},
	{"reserved", "240.0.0.0/4"},
	{"unspecified", "::/128"},
	{"loopback", "::1/128"},
	{"ipv4-translated", "::ffff:0:0:0/96"},
	{"ipv4-compatible", "::/96"}, // deprecated ::a.b.c.d, which some stacks route to the IPv4 address
	{"nat64", "64:ff9b::/96"},
	{"nat64", "64:ff9b:1::/48"},
	{"reserved", "100::/64"},
	{"teredo", "2001::/32"},
	{"benchmarking", "2001:2::/48"},
	{"reserved", "2001:10::/28"},
	{"reserved", "2001:20::/28"},
	{"documentation", "2001:db8::/32"},
	{"6to4", "2002::/16"},
	{"documentation", "3fff::/20"},
	{"private", "fc00::/7"},
	{"link-local", "fe80::/10"},
	{"reserved", "fec0::/10"},
	{"multicast", "ff00::/8"},
}

// Allow returns a copy of p that also allows the given prefixes.
func (p *Policy) Allow(prefixes ...netip.Prefix) *Policy {
	c := p.clone()
	for _, pf := range prefixes {
		c.allow = append(c.allow, pf.Masked())
	}
	return c
}

// Deny returns a copy of p that also denies the given prefixes under name.
func (p *Policy) Deny(name string, prefixes ...netip.Prefix) *Policy {
	c := p.clone()
	for _, pf := range prefixes {
		c.deny = append(c.deny, Rule{Name: name, Prefix: pf.Masked()})
	}
	return c
}

// Rules returns the deny rules, for display.
func (p *Policy) Rules() []Rule {
	if p == nil {
		return nil
	}
	return append([]Rule(nil), p.deny...)
}

func (p *Policy) clone() *Policy {
	if p == nil {
		return &Policy{}
	}
	return &Policy{
		deny:  append([]Rule(nil), p.deny...),
		allow: append([]netip.Prefix(nil), p.allow...),
	}
}

// AllowsAll reports whether p denies nothing.
func (p *Policy) AllowsAll() bool { return p == nil || len(p.deny) == 0 }

// Check returns nil when addr may be reached, or an error wrapping ErrDenied
// that names the address and the rule.
func (p *Policy) Check(addr netip.Addr) error {
	if p.AllowsAll() {
		return nil
	}
	if !addr.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrDenied)
	}
	a := addr.Unmap().WithZone("")
	rule, denied := p.deniedBy(a)
	if !denied {
		return nil
	}
	return fmt.Errorf("%w: %s is in %s (%s)", ErrDenied, addr, rule.Prefix, rule.Name)
}

// deniedBy finds the most specific deny rule containing a and reports
// whether no equally or more specific allow prefix overrides it.
func (p *Policy) deniedBy(a netip.Addr) (Rule, bool) {
	best := -1
	for i, r := range p.deny {
		if r.Prefix.Contains(a) && (best < 0 || r.Prefix.Bits() > p.deny[best].Prefix.Bits()) {
			best = i
		}
	}
	if best < 0 {
		return Rule{}, false
	}
	for _, pf := range p.allow {
		if pf.Contains(a) && pf.Bits() >= p.deny[best].Prefix.Bits() {
			return Rule{}, false
		}
	}
	return p.deny[best], true
}

// CheckAddrPort is Check for a "host:port" string holding an IP address, as
// a dialer's Control hook receives it. Anything that is not an IP address
// is denied unless the policy allows everything.
func (p *Policy) CheckAddrPort(address string) error {
	if p.AllowsAll() {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address and port", ErrDenied, address)
	}
	return p.Check(ap.Addr())
}
