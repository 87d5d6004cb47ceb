package traceroute

import (
	"encoding/binary"
	"net/netip"
)

// Probe packets. Every probe of a flow keeps the fields routers hash for
// ECMP constant (Paris traceroute): ICMP echo keeps its identifier and its
// checksum (a payload word compensates the changing sequence number); UDP
// keeps its ports and carries the probe's sequence number in its checksum
// (a payload word makes the checksum come out right), which routers quote
// back; TCP keeps its ports and numbers probes by sequence number.

const (
	icmpPayloadLen = 32
	udpPayloadLen  = 24
	flowChecksum   = 0x5aa5 // the constant one's-complement sum of ICMP probes
)

// onesum adds b as big-endian 16-bit words to sum (not folded).
func onesum(sum uint32, b []byte) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}

// onesub returns a - b in one's complement arithmetic.
func onesub(a, b uint16) uint16 { return fold(uint32(a) + uint32(^b)) }

// pseudoHeader returns the one's complement sum of the IPv4 or IPv6
// pseudo-header for an upper-layer packet of length n.
func pseudoHeader(src, dst netip.Addr, proto uint8, n int) uint32 {
	s := onesum(0, src.AsSlice())
	s = onesum(s, dst.AsSlice())
	return s + uint32(proto) + uint32(n)
}

// echoRequest builds an ICMP (v6: ICMPv6) echo request whose checksum is
// the same for every seq. For IPv4 the checksum is filled in; for ICMPv6 the
// kernel computes it (over the pseudo-header, which is constant too).
func echoRequest(v6 bool, id, seq uint16) []byte {
	b := make([]byte, 8+icmpPayloadLen)
	b[0] = 8
	if v6 {
		b[0] = 128
	}
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	for i := 10; i < len(b); i++ {
		b[i] = byte(i)
	}
	partial := fold(onesum(0, b))
	binary.BigEndian.PutUint16(b[8:], onesub(flowChecksum, partial))
	if !v6 {
		binary.BigEndian.PutUint16(b[2:], ^fold(onesum(0, b)))
	}
	return b
}

// udpPayload returns the payload of UDP probe seq (1-0xfffe) from src:sport
// to dst:dport: the seq, then a word chosen so the UDP checksum equals seq.
func udpPayload(src, dst netip.Addr, sport, dport, seq uint16) []byte {
	p := make([]byte, udpPayloadLen)
	binary.BigEndian.PutUint16(p, seq)
	for i := 4; i < len(p); i++ {
		p[i] = byte(0x40 + i)
	}
	n := 8 + len(p)
	hdr := make([]byte, 8)
	binary.BigEndian.PutUint16(hdr[0:], sport)
	binary.BigEndian.PutUint16(hdr[2:], dport)
	binary.BigEndian.PutUint16(hdr[4:], uint16(n))
	s := pseudoHeader(src, dst, 17, n)
	s = onesum(s, hdr)
	partial := fold(onesum(s, p))
	// checksum = ^sum, so the sum must be ^seq.
	binary.BigEndian.PutUint16(p[2:], onesub(^seq, partial))
	return p
}

// udpChecksum computes the checksum of a UDP datagram (header with a zero
// checksum field, then payload).
func udpChecksum(src, dst netip.Addr, b []byte) uint16 {
	c := ^fold(onesum(pseudoHeader(src, dst, 17, len(b)), b))
	if c == 0 {
		c = 0xffff
	}
	return c
}

// tcpSYN builds a TCP SYN with an MSS option and its checksum.
func tcpSYN(src, dst netip.Addr, sport, dport uint16, seq uint32) []byte {
	b := make([]byte, 24)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint32(b[4:], seq)
	b[12] = 6 << 4 // data offset: 6 words
	b[13] = 0x02   // SYN
	binary.BigEndian.PutUint16(b[14:], 64240)
	copy(b[20:], []byte{2, 4, 0x05, 0xb4}) // MSS 1460
	binary.BigEndian.PutUint16(b[16:], ^fold(onesum(pseudoHeader(src, dst, 6, len(b)), b)))
	return b
}
