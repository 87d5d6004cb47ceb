package geo

import (
	_ "embed"
	"fmt"
	"net/netip"
	"slices"

	"go.yaml.in/yaml/v3"
)

// anycastYAML is the shipped list of well-known anycast prefixes: the root
// name servers and the shipped public resolvers (the file documents itself).
//
//go:embed anycast.yaml
var anycastYAML []byte

// AnycastService is one entry of the shipped anycast list.
type AnycastService struct {
	Name     string         `yaml:"name"`
	Operator string         `yaml:"operator"`
	Prefixes []netip.Prefix `yaml:"prefixes"`
}

// ShippedAnycast returns the shipped list of well-known anycast prefixes.
func ShippedAnycast() ([]AnycastService, error) {
	var list []AnycastService
	if err := yaml.Unmarshal(anycastYAML, &list); err != nil {
		return nil, fmt.Errorf("reading the shipped anycast list: %w", err)
	}
	return list, nil
}

// anycastTable answers which anycast service holds an address: a map per
// prefix length in use, so a lookup costs a few map probes.
type anycastTable struct {
	byPrefix map[netip.Prefix]string // masked prefix → "name (operator)"
	bits4    []int
	bits6    []int
}

func newAnycastTable(list []AnycastService) *anycastTable {
	t := &anycastTable{byPrefix: map[netip.Prefix]string{}}
	for _, s := range list {
		for _, p := range s.Prefixes {
			t.byPrefix[p.Masked()] = s.Name + " (" + s.Operator + ")"
			bits := &t.bits6
			if p.Addr().Is4() {
				bits = &t.bits4
			}
			if !slices.Contains(*bits, p.Bits()) {
				*bits = append(*bits, p.Bits())
			}
		}
	}
	return t
}

// match returns the service holding a (already unmapped), or "".
func (t *anycastTable) match(a netip.Addr) string {
	bits := t.bits6
	if a.Is4() {
		bits = t.bits4
	}
	for _, b := range bits {
		p, _ := a.Prefix(b)
		if name, ok := t.byPrefix[p]; ok {
			return name
		}
	}
	return ""
}
