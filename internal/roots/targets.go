package roots

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParseTargets reads stand-in root server addresses: each entry
// "LETTER=ADDR" or "ADDR" (letters a, b, c ... by position), ADDR an IP
// address with an optional port ([v6]:port). version 4 or 6 keeps one
// family.
func ParseTargets(entries []string, version int) ([]Target, error) {
	var out []Target
	for i, e := range entries {
		letter, addr, ok := strings.Cut(strings.TrimSpace(e), "=")
		if !ok {
			letter, addr = string(rune('a'+i%26)), letter
		}
		ap, err := netip.ParseAddrPort(addr)
		if err != nil {
			a, aerr := netip.ParseAddr(strings.Trim(addr, "[]"))
			if aerr != nil {
				return nil, fmt.Errorf("%q: want an IP address with an optional port (192.0.2.1, [2001:db8::1]:53), optionally after LETTER=", e)
			}
			ap = netip.AddrPortFrom(a, 53)
		}
		if letter == "" || strings.ContainsAny(letter, " \t") {
			return nil, fmt.Errorf("%q: empty letter before '='", e)
		}
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if version == 4 && !ap.Addr().Is4() || version == 6 && !ap.Addr().Is6() {
			continue
		}
		out = append(out, Target{Letter: strings.ToLower(letter), Addr: ap})
	}
	return out, nil
}
