package runner

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dnsscience/dnsscience/internal/measure"
)

// IsSelector reports whether a requested location is a selector
// (country:CC, asn:N, any:N) rather than a location id.
func IsSelector(s string) bool { return strings.Contains(s, ":") }

// expand replaces selectors with the online locations they choose, in the
// order Locations lists them: country:CC (every location in that country),
// asn:N (every location in that network), any:N (N locations not already
// chosen). Ids are kept as given; a location chosen twice by selectors is
// kept once.
func (s *Service) expand(ids []string) ([]string, error) {
	if !slices.ContainsFunc(ids, IsSelector) {
		return ids, nil
	}
	var online []LocationStatus
	for _, l := range s.Locations() {
		if l.Status == "online" {
			online = append(online, l)
		}
	}
	var out []string
	chosen := map[string]bool{}
	for _, id := range ids {
		if !IsSelector(id) {
			chosen[id] = true
		}
	}
	for i, id := range ids {
		if !IsSelector(id) {
			out = append(out, id)
			continue
		}
		field := fmt.Sprintf("locations[%d]", i)
		kind, arg, _ := strings.Cut(id, ":")
		match, limit, err := selector(field, kind, arg)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, l := range online {
			if n < limit && !chosen[l.ID] && match(l) {
				chosen[l.ID] = true
				out = append(out, l.ID)
				n++
			}
		}
		if n == 0 || (kind == "any" && n < limit) {
			return nil, &measure.FieldError{Field: field, Detail: fmt.Sprintf("%q selects %d online locations; see GET /api/v1/locations", id, n)}
		}
	}
	return out, nil
}

// selector parses one selector into a match and how many it may choose.
func selector(field, kind, arg string) (func(LocationStatus) bool, int, error) {
	switch kind {
	case "country":
		if arg == "" {
			break
		}
		return func(l LocationStatus) bool { return strings.EqualFold(l.Country, arg) }, 1 << 30, nil
	case "asn":
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(arg), "AS"), 10, 32)
		if err != nil {
			break
		}
		return func(l LocationStatus) bool { return l.ASN == uint32(n) }, 1 << 30, nil
	case "any":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 1 {
			break
		}
		return func(LocationStatus) bool { return true }, n, nil
	}
	return nil, 0, &measure.FieldError{Field: field, Detail: fmt.Sprintf("bad selector %q; want a location id, country:CC, asn:N or any:N", kind+":"+arg)}
}
