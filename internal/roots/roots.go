// Package roots describes the 13 root name servers — the addresses from
// the shipped root hints (internal/dnsq, the one list of addresses), the
// operators and their headquarters from operators.go — and asks each
// letter over IPv4 and IPv6 which instance answers (NSID, CH TXT
// hostname.bind and id.server) and how fast.
package roots

import (
	"strings"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// Server is one root server letter.
type Server struct {
	Letter   string `json:"letter"`
	Name     string `json:"name"`
	Operator string `json:"operator,omitempty"`
	IPv4     string `json:"ipv4,omitempty"`
	IPv6     string `json:"ipv6,omitempty"`
	// HQ is the operator's headquarters (approximate): the letter's
	// instances are anycast all over the world.
	HQ *Place `json:"hq,omitempty"`
}

// Place is a city with its coordinates.
type Place struct {
	City      string  `json:"city"`
	Country   string  `json:"country"`
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

// Shipped returns the 13 root servers: the shipped root hints with their
// operators.
func Shipped() []Server { return FromHints(dnsq.RootHints()) }

// FromHints describes the name servers of root hints, with the operator
// of each known letter.
func FromHints(hosts []dnsq.NSHost) []Server {
	out := make([]Server, 0, len(hosts))
	for _, h := range hosts {
		s := Server{Letter: letterOf(h.Name), Name: strings.ToLower(h.Name)}
		for _, a := range h.Addrs {
			switch {
			case a.Is4() && s.IPv4 == "":
				s.IPv4 = a.String()
			case a.Is6() && s.IPv6 == "":
				s.IPv6 = a.String()
			}
		}
		if op, ok := operators[s.Letter]; ok && strings.HasSuffix(s.Name, ".root-servers.net.") {
			s.Operator = op.name
			hq := op.hq
			s.HQ = &hq
		}
		out = append(out, s)
	}
	return out
}

// letterOf is the letter of X.ROOT-SERVERS.NET (lower case), else the
// name's first label.
func letterOf(name string) string {
	first, _, _ := strings.Cut(strings.ToLower(name), ".")
	return first
}
