package traceroute

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

func TestUDPChecksumCarriesSequence(t *testing.T) {
	for _, pair := range [][2]string{{"10.0.0.1", "10.9.8.7"}, {"2001:db8::1", "2001:db8:5::9"}} {
		src, dst := netip.MustParseAddr(pair[0]), netip.MustParseAddr(pair[1])
		for _, seq := range []uint16{1, 2, 0x1234, 0xfffe} {
			p := udpPayload(src, dst, 40000, 33434, seq)
			d := make([]byte, 8+len(p))
			binary.BigEndian.PutUint16(d[0:], 40000)
			binary.BigEndian.PutUint16(d[2:], 33434)
			binary.BigEndian.PutUint16(d[4:], uint16(len(d)))
			copy(d[8:], p)
			if got := udpChecksum(src, dst, d); got != seq {
				t.Errorf("%s seq %#x: checksum %#x, want the sequence number", pair[0], seq, got)
			}
		}
	}
}

func TestEchoChecksumConstantPerFlow(t *testing.T) {
	first := binary.BigEndian.Uint16(echoRequest(false, 7, 1)[2:])
	for seq := uint16(2); seq < 2000; seq += 37 {
		b := echoRequest(false, 7, seq)
		if got := binary.BigEndian.Uint16(b[2:]); got != first {
			t.Fatalf("seq %d: checksum %#x, want the flow's constant %#x", seq, got, first)
		}
		if fold(onesum(0, b)) != 0xffff {
			t.Fatalf("seq %d: checksum does not verify", seq)
		}
	}
}

func TestQuotedKeyAndMPLS(t *testing.T) {
	// An ICMP time exceeded quoting an ICMP echo (id 0x1234 seq 9), with an
	// RFC 4884 length (32 words = 128 bytes) and an RFC 4950 MPLS object.
	orig := make([]byte, 128)
	orig[0], orig[8], orig[9] = 0x45, 1, 1 // IPv4, TTL 1, ICMP
	binary.BigEndian.PutUint16(orig[2:], 128)
	copy(orig[20:], []byte{8, 0, 0, 0, 0x12, 0x34, 0, 9})
	ext := []byte{0x20, 0, 0, 0, 0, 8, 1, 1, 0x01, 0x23, 0x45 | 0x01, 0x40}
	// label 0x01234 (4660), TC 2, S 1, TTL 64: 0x01234<<12 | 2<<9 | 1<<8 | 64
	binary.BigEndian.PutUint32(ext[8:], 4660<<12|2<<9|1<<8|64)
	cs := ^fold(onesum(0, ext))
	binary.BigEndian.PutUint16(ext[2:], cs)
	msg := append([]byte{11, 0, 0, 0, 0, 32, 0, 0}, orig...)
	msg = append(msg, ext...)
	binary.BigEndian.PutUint16(msg[2:], ^fold(onesum(0, msg)))
	r, ok := parseICMP(false, msg)
	if !ok {
		t.Fatal("message not parsed")
	}
	if want := (key{proto: ICMP, id: 0x1234, seq: 9}); r.key != want || r.kind != kindTimeExceeded {
		t.Errorf("key %+v kind %d, want %+v and time exceeded", r.key, r.kind, want)
	}
	if len(r.mpls) != 1 || r.mpls[0] != (MPLSLabel{Label: 4660, TC: 2, S: true, TTL: 64}) {
		t.Errorf("MPLS labels %+v, want one label 4660 tc 2 s ttl 64", r.mpls)
	}
}

func FuzzParseICMP(f *testing.F) {
	f.Add(false, []byte{11, 0, 0, 0, 0, 0, 0, 0, 0x45})
	f.Add(true, []byte{3, 0, 0, 0, 0, 0, 0, 0, 0x60})
	f.Fuzz(func(t *testing.T, v6 bool, b []byte) {
		parseICMP(v6, b)
		parseTCP(v6, b)
		stripIPv4(b)
	})
}
