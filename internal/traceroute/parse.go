package traceroute

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/net/icmp"
)

// key identifies one probe across every trace of a Tracer.
type key struct {
	v6    bool
	proto Protocol
	id    uint16 // ICMP identifier, or the UDP/TCP source port
	seq   uint32 // ICMP sequence, UDP checksum (= probe sequence) or TCP sequence
}

// kind is what an answer says about the probe.
type kind int

const (
	kindTimeExceeded kind = iota // a router on the way
	kindEchoReply                // the destination (ICMP probes)
	kindUnreachable              // destination unreachable (port unreachable from the destination ends UDP traces)
	kindTCP                      // the destination answered with SYN-ACK or RST
	kindOther                    // parameter problem, packet too big
)

// reply is one answer, matched to a probe by key.
type reply struct {
	key      key
	from     netip.Addr
	dst      netip.Addr // the probe's destination, when the answer quotes it
	kind     kind
	icmpType int
	icmpCode int
	tcpFlags string
	ttl      int
	mpls     []MPLSLabel
	at       time.Time
}

// parseICMP parses an ICMP or ICMPv6 message (without IP header) into the
// reply it is for. ok is false for messages that answer no probe kind.
func parseICMP(v6 bool, b []byte) (r reply, ok bool) {
	proto := 1
	if v6 {
		proto = 58
	}
	m, err := icmp.ParseMessage(proto, b)
	if err != nil || len(b) < 2 {
		return r, false
	}
	r.icmpType, r.icmpCode = int(b[0]), int(b[1])
	var data []byte
	var exts []icmp.Extension
	switch body := m.Body.(type) {
	case *icmp.Echo:
		if (!v6 && b[0] != 0) || (v6 && b[0] != 129) {
			return r, false
		}
		r.kind = kindEchoReply
		r.key = key{v6: v6, proto: ICMP, id: uint16(body.ID), seq: uint32(uint16(body.Seq))}
		return r, true
	case *icmp.TimeExceeded:
		r.kind, data, exts = kindTimeExceeded, body.Data, body.Extensions
	case *icmp.DstUnreach:
		r.kind, data, exts = kindUnreachable, body.Data, body.Extensions
	case *icmp.ParamProb:
		r.kind, data, exts = kindOther, body.Data, body.Extensions
	case *icmp.PacketTooBig:
		r.kind, data = kindOther, body.Data
	default:
		return r, false
	}
	r.key, r.dst, ok = quotedKey(v6, data)
	r.mpls = mplsLabels(exts)
	return r, ok
}

// quotedKey finds the probe key in the original datagram an ICMP error
// quotes (IP header, then at least 8 bytes of the probe).
func quotedKey(v6 bool, d []byte) (key, netip.Addr, bool) {
	var proto byte
	var l4 []byte
	var dst netip.Addr
	if v6 {
		if len(d) < 48 || d[0]>>4 != 6 {
			return key{}, dst, false
		}
		proto, l4, dst = d[6], d[40:], netip.AddrFrom16([16]byte(d[24:40]))
	} else {
		if len(d) < 28 || d[0]>>4 != 4 {
			return key{}, dst, false
		}
		ihl := int(d[0]&0x0f) * 4
		if ihl < 20 || len(d) < ihl+8 {
			return key{}, dst, false
		}
		proto, l4, dst = d[9], d[ihl:], netip.AddrFrom4([4]byte(d[16:20]))
	}
	k, ok := probeKey(v6, proto, l4)
	return k, dst, ok
}

// probeKey reads the key from the first 8 bytes of a probe's L4 header.
func probeKey(v6 bool, proto byte, l4 []byte) (key, bool) {
	if len(l4) < 8 {
		return key{}, false
	}
	switch proto {
	case 1, 58:
		if (proto == 1) == v6 || (l4[0] != 8 && l4[0] != 128) {
			return key{}, false
		}
		return key{v6: v6, proto: ICMP, id: binary.BigEndian.Uint16(l4[4:]), seq: uint32(binary.BigEndian.Uint16(l4[6:]))}, true
	case 17:
		// The probe's sequence number is its checksum and the first word of
		// its payload. Prefer the payload when quoted: a checksum left to
		// offload (veth) is quoted unfinished.
		seq := binary.BigEndian.Uint16(l4[6:])
		if len(l4) >= 10 {
			seq = binary.BigEndian.Uint16(l4[8:])
		}
		return key{v6: v6, proto: UDP, id: binary.BigEndian.Uint16(l4[0:]), seq: uint32(seq)}, true
	case 6:
		return key{v6: v6, proto: TCP, id: binary.BigEndian.Uint16(l4[0:]), seq: binary.BigEndian.Uint32(l4[4:])}, true
	}
	return key{}, false
}

// parseTCP parses a TCP segment from the destination into the reply to the
// SYN it answers; ok is false unless it is a SYN-ACK or a RST with ACK.
func parseTCP(v6 bool, b []byte) (reply, bool) {
	if len(b) < 20 {
		return reply{}, false
	}
	flags := b[13]
	var r reply
	switch {
	case flags&0x12 == 0x12:
		r.tcpFlags = "SA"
	case flags&0x14 == 0x14:
		r.tcpFlags = "R"
	default:
		return reply{}, false
	}
	ack := binary.BigEndian.Uint32(b[8:])
	r.kind = kindTCP
	r.key = key{v6: v6, proto: TCP, id: binary.BigEndian.Uint16(b[2:]), seq: ack - 1}
	return r, true
}

// stripIPv4 returns the payload of an IPv4 packet, its source and TTL.
func stripIPv4(b []byte) ([]byte, netip.Addr, int, error) {
	if len(b) < 20 || b[0]>>4 != 4 {
		return nil, netip.Addr{}, 0, fmt.Errorf("not an IPv4 packet")
	}
	ihl := int(b[0]&0x0f) * 4
	if ihl < 20 || len(b) < ihl {
		return nil, netip.Addr{}, 0, fmt.Errorf("bad IPv4 header length %d", ihl)
	}
	return b[ihl:], netip.AddrFrom4([4]byte(b[12:16])), int(b[8]), nil
}

func mplsLabels(exts []icmp.Extension) []MPLSLabel {
	var out []MPLSLabel
	for _, e := range exts {
		if st, ok := e.(*icmp.MPLSLabelStack); ok {
			for _, l := range st.Labels {
				out = append(out, MPLSLabel{Label: l.Label, TC: l.TC, S: l.S, TTL: l.TTL})
			}
		}
	}
	return out
}

// unreachFlag names an unreachable code as traceroute does; "" for port
// unreachable (the normal end of a UDP trace).
func unreachFlag(v6 bool, code int) string {
	if v6 {
		switch code {
		case 4:
			return ""
		case 0:
			return "!N"
		case 1, 5, 6:
			return "!X"
		case 3:
			return "!H"
		case 2:
			return "!S"
		}
		return fmt.Sprintf("!<%d>", code)
	}
	switch code {
	case 3:
		return ""
	case 0, 6, 9, 11:
		return "!N"
	case 1, 7, 10, 12:
		return "!H"
	case 2:
		return "!P"
	case 4:
		return "!F"
	case 5:
		return "!S"
	case 13:
		return "!X"
	case 14:
		return "!V"
	case 15:
		return "!C"
	}
	return fmt.Sprintf("!<%d>", code)
}

// packet is one datagram read from a socket.
type packet struct {
	data    []byte
	from    netip.Addr // sender (for error-queue messages: the offender)
	ttl     int        // TTL or hop limit it arrived with; 0 when unknown
	errq    bool       // it came from the error queue
	eeType  int        // for error-queue messages: ICMP type and code
	eeCode  int
	arrived time.Time
}
