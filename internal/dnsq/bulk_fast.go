package dnsq

import (
	"encoding/binary"
	"net/netip"

	"github.com/miekg/dns"
)

// fastReply reads the replies that make up nearly all of a bulk run — one
// question, an answer section of A records only (or none), not truncated —
// straight from the wire into a result, without building a dns.Msg: the
// same rcode (extended by the OPT record as the wire library does), names,
// TTLs and addresses as the full unpacking gives. Anything else (another
// type in the answer, truncation, a malformed message) returns ok false and
// takes the full path.
func fastReply(b []byte) (rcode int, answer []Record, ok bool) {
	if len(b) < 12 || b[2]&0x02 != 0 { // TC: retried over TCP by the full path
		return 0, nil, false
	}
	rcode = int(b[3] & 0x0f)
	qd, an := binary.BigEndian.Uint16(b[4:]), int(binary.BigEndian.Uint16(b[6:]))
	ns, ar := int(binary.BigEndian.Uint16(b[8:])), int(binary.BigEndian.Uint16(b[10:]))
	if qd != 1 {
		return 0, nil, false
	}
	off, ok := skipName(b, 12)
	if !ok || off+4 > len(b) {
		return 0, nil, false
	}
	off += 4
	answer = make([]Record, 0, an)
	for range an {
		name, end, err := dns.UnpackDomainName(b, off)
		if err != nil || end+10 > len(b) {
			return 0, nil, false
		}
		typ, class := binary.BigEndian.Uint16(b[end:]), binary.BigEndian.Uint16(b[end+2:])
		ttl, rdlen := binary.BigEndian.Uint32(b[end+4:]), int(binary.BigEndian.Uint16(b[end+8:]))
		off = end + 10
		if typ != dns.TypeA || rdlen != 4 || off+4 > len(b) {
			return 0, nil, false
		}
		addr := netip.AddrFrom4([4]byte(b[off : off+4]))
		answer = append(answer, Record{Name: name, Type: "A", Class: ClassString(class), TTL: ttl, Data: addr.String()})
		off += 4
	}
	// Authority and additional: only the additional section's OPT record
	// matters, for the upper bits of the rcode.
	opts := 0
	for i := range ns + ar {
		end, ok := skipName(b, off)
		if !ok || end+10 > len(b) {
			return 0, nil, false
		}
		if i >= ns && binary.BigEndian.Uint16(b[end:]) == dns.TypeOPT {
			if opts++; opts > 1 {
				return 0, nil, false
			}
			rcode |= int(b[end+4]) << 4
		}
		off = end + 10 + int(binary.BigEndian.Uint16(b[end+8:]))
		if off > len(b) {
			return 0, nil, false
		}
	}
	return rcode, answer, true
}

// skipName returns the offset after the name at off (a compression pointer
// ends it), and false when the name runs past the message or holds a label
// type other than plain labels and pointers.
func skipName(b []byte, off int) (int, bool) {
	for off < len(b) {
		c := b[off]
		switch {
		case c == 0:
			return off + 1, true
		case c&0xc0 == 0xc0:
			if off+2 > len(b) {
				return 0, false
			}
			return off + 2, true
		case c&0xc0 != 0:
			return 0, false
		}
		off += 1 + int(c)
	}
	return 0, false
}
