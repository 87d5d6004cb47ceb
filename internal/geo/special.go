package geo

import "net/netip"

// Special-purpose address categories (Info.Special). Addresses in them are
// labelled and never geolocated from the data files: a private or
// documentation address has no place, and an anycast or translation prefix
// has no single one.
const (
	SpecialThisNetwork   = "this-network"   // 0.0.0.0/8, ::/128
	SpecialPrivate       = "private"        // RFC 1918
	SpecialCGNAT         = "cgnat"          // 100.64.0.0/10, shared address space (RFC 6598)
	SpecialLoopback      = "loopback"       // 127.0.0.0/8, ::1
	SpecialLinkLocal     = "link-local"     // 169.254.0.0/16, fe80::/10
	SpecialIETF          = "ietf-protocol"  // 192.0.0.0/24, 2001::/23
	SpecialDocumentation = "documentation"  // TEST-NET-1/2/3, 2001:db8::/32, 3fff::/20
	SpecialBenchmarking  = "benchmarking"   // 198.18.0.0/15, 2001:2::/48
	SpecialAnycast       = "anycast"        // AS112, AMT, 6to4 relay
	SpecialMulticast     = "multicast"      // 224.0.0.0/4, ff00::/8
	SpecialReserved      = "reserved"       // 240.0.0.0/4, IPv6 outside 2000::/3
	SpecialBroadcast     = "broadcast"      // 255.255.255.255
	SpecialUniqueLocal   = "unique-local"   // fc00::/7
	SpecialTranslation   = "translation"    // NAT64 64:ff9b::/96, 64:ff9b:1::/48, 6to4 2002::/16
	SpecialDiscard       = "discard"        // 100::/64
	SpecialSRv6          = "srv6"           // 5f00::/16
	specialGlobalUnicast = "global-unicast" // internal: 2000::/3 ends the IPv6 table
)

// specialRange is one row of the IANA special-purpose registries.
type specialRange struct {
	prefix netip.Prefix
	kind   string
	note   string
}

// specialRanges lists the IANA IPv4 and IPv6 special-purpose address
// registries (plus multicast, reserved and the limited broadcast address),
// most specific first so the first match wins.
func specialRanges() []specialRange {
	p := netip.MustParsePrefix
	return []specialRange{
		{p("255.255.255.255/32"), SpecialBroadcast, "limited broadcast (RFC 919)"},
		{p("192.0.2.0/24"), SpecialDocumentation, "documentation TEST-NET-1 (RFC 5737)"},
		{p("198.51.100.0/24"), SpecialDocumentation, "documentation TEST-NET-2 (RFC 5737)"},
		{p("203.0.113.0/24"), SpecialDocumentation, "documentation TEST-NET-3 (RFC 5737)"},
		{p("192.0.0.0/24"), SpecialIETF, "IETF protocol assignments (RFC 6890)"},
		{p("192.31.196.0/24"), SpecialAnycast, "AS112-v4 anycast (RFC 7535)"},
		{p("192.52.193.0/24"), SpecialAnycast, "AMT anycast (RFC 7450)"},
		{p("192.88.99.0/24"), SpecialAnycast, "deprecated 6to4 relay anycast (RFC 7526)"},
		{p("192.175.48.0/24"), SpecialAnycast, "AS112 direct delegation (RFC 7534)"},
		{p("169.254.0.0/16"), SpecialLinkLocal, "link-local (RFC 3927)"},
		{p("192.168.0.0/16"), SpecialPrivate, "private-use (RFC 1918)"},
		{p("198.18.0.0/15"), SpecialBenchmarking, "benchmarking (RFC 2544)"},
		{p("172.16.0.0/12"), SpecialPrivate, "private-use (RFC 1918)"},
		{p("100.64.0.0/10"), SpecialCGNAT, "shared address space, carrier-grade NAT (RFC 6598)"},
		{p("0.0.0.0/8"), SpecialThisNetwork, `"this network" (RFC 791)`},
		{p("10.0.0.0/8"), SpecialPrivate, "private-use (RFC 1918)"},
		{p("127.0.0.0/8"), SpecialLoopback, "loopback (RFC 1122)"},
		{p("224.0.0.0/4"), SpecialMulticast, "multicast (RFC 5771)"},
		{p("240.0.0.0/4"), SpecialReserved, "reserved (RFC 1112)"},

		{p("::/128"), SpecialThisNetwork, "unspecified address (RFC 4291)"},
		{p("::1/128"), SpecialLoopback, "loopback (RFC 4291)"},
		{p("64:ff9b::/96"), SpecialTranslation, "NAT64 well-known prefix (RFC 6052)"},
		{p("100::/64"), SpecialDiscard, "discard-only (RFC 6666)"},
		{p("64:ff9b:1::/48"), SpecialTranslation, "local-use NAT64 (RFC 8215)"},
		{p("2001:2::/48"), SpecialBenchmarking, "benchmarking (RFC 5180)"},
		{p("2001:4:112::/48"), SpecialAnycast, "AS112-v6 anycast (RFC 7535)"},
		{p("2620:4f:8000::/48"), SpecialAnycast, "AS112 direct delegation (RFC 7534)"},
		{p("2001:db8::/32"), SpecialDocumentation, "documentation (RFC 3849)"},
		{p("2001::/23"), SpecialIETF, "IETF protocol assignments (RFC 2928)"},
		{p("3fff::/20"), SpecialDocumentation, "documentation (RFC 9637)"},
		{p("2002::/16"), SpecialTranslation, "6to4 (RFC 3056)"},
		{p("5f00::/16"), SpecialSRv6, "SRv6 SIDs (RFC 9602)"},
		{p("fe80::/10"), SpecialLinkLocal, "link-local unicast (RFC 4291)"},
		{p("fc00::/7"), SpecialUniqueLocal, "unique-local (RFC 4193)"},
		{p("ff00::/8"), SpecialMulticast, "multicast (RFC 4291)"},
		{p("2000::/3"), specialGlobalUnicast, ""},
	}
}

// specialTable answers which special-purpose range holds an address. IPv4
// rows are indexed by first octet so an ordinary address costs one or two
// prefix checks.
type specialTable struct {
	v4 [256][]specialRange
	v6 []specialRange
}

func newSpecialTable() *specialTable {
	t := &specialTable{}
	for _, r := range specialRanges() {
		if !r.prefix.Addr().Is4() {
			t.v6 = append(t.v6, r)
			continue
		}
		first := int(r.prefix.Addr().As4()[0])
		span := 1 << max(0, 8-r.prefix.Bits())
		for o := first; o < first+span; o++ {
			t.v4[o] = append(t.v4[o], r)
		}
	}
	return t
}

// classify returns the special-purpose range holding a (already unmapped),
// or ok=false for an ordinary global unicast address.
func (t *specialTable) classify(a netip.Addr) (kind, note string, ok bool) {
	rows := t.v6
	if a.Is4() {
		rows = t.v4[a.As4()[0]]
	}
	for i := range rows {
		if rows[i].prefix.Contains(a) {
			if rows[i].kind == specialGlobalUnicast {
				return "", "", false
			}
			return rows[i].kind, rows[i].note, true
		}
	}
	if a.Is4() {
		return "", "", false
	}
	return SpecialReserved, "reserved by the IETF: outside global unicast 2000::/3 (RFC 4291)", true
}
