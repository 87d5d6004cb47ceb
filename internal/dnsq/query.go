package dnsq

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// DefaultUDPSize is the EDNS0 buffer size advertised unless Query.UDPSize is
// set: the DNS Flag Day 2020 value, which avoids IP fragmentation.
const DefaultUDPSize = 1232

// Query is one DNS question with its header flags and EDNS0 options. The zero
// value of every field is the common default: recursion desired, EDNS0 with a
// 1232-byte buffer, class IN, no DNSSEC records.
type Query struct {
	Name  string `json:"name"`  // fully qualified name (see NormalizeName)
	Type  uint16 `json:"type"`  // RR type; 0 means A
	Class uint16 `json:"class"` // class; 0 means IN

	NoRecurse bool `json:"no_recurse,omitempty"` // clear RD
	CD        bool `json:"cd,omitempty"`         // checking disabled
	AD        bool `json:"ad,omitempty"`         // ask for authenticated data

	NoEDNS       bool         `json:"no_edns,omitempty"`      // send no OPT record
	UDPSize      uint16       `json:"udp_size,omitempty"`     // EDNS0 buffer size; 0 means 1232
	DO           bool         `json:"do,omitempty"`           // DNSSEC OK
	NSID         bool         `json:"nsid,omitempty"`         // ask for the server's NSID
	Cookie       bool         `json:"cookie,omitempty"`       // send a client cookie
	ClientSubnet netip.Prefix `json:"client_subnet,omitzero"` // EDNS client subnet (RFC 7871)
	// Options are further EDNS options sent as they are (dig +ednsopt).
	Options []EDNSOption `json:"edns_options,omitempty"`
}

// EDNSOption is one raw EDNS option: a code and its data.
type EDNSOption struct {
	Code uint16 `json:"code"`
	Data []byte `json:"data,omitempty"`
}

// Msg builds the wire message for q with the given id.
func (q Query) Msg(id uint16) (*dns.Msg, error) {
	t, c := q.Type, q.Class
	if t == 0 {
		t = dns.TypeA
	}
	if c == 0 {
		c = dns.ClassINET
	}
	m := &dns.Msg{}
	m.Id = id
	m.Opcode = dns.OpcodeQuery
	m.RecursionDesired = !q.NoRecurse
	m.CheckingDisabled = q.CD
	m.AuthenticatedData = q.AD
	m.Question = []dns.Question{{Name: dns.Fqdn(q.Name), Qtype: t, Qclass: c}}
	if q.NoEDNS {
		return m, nil
	}
	size := q.UDPSize
	if size == 0 {
		size = DefaultUDPSize
	}
	opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	opt.SetUDPSize(size)
	opt.SetDo(q.DO)
	if q.NSID {
		opt.Option = append(opt.Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
	}
	if q.Cookie {
		opt.Option = append(opt.Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: clientCookie(id)})
	}
	if q.ClientSubnet.IsValid() {
		opt.Option = append(opt.Option, subnetOption(q.ClientSubnet))
	}
	for _, o := range q.Options {
		opt.Option = append(opt.Option, &dns.EDNS0_LOCAL{Code: o.Code, Data: o.Data})
	}
	m.Extra = append(m.Extra, opt)
	return m, nil
}

func subnetOption(p netip.Prefix) *dns.EDNS0_SUBNET {
	p = p.Masked()
	family := uint16(1)
	if p.Addr().Is6() && !p.Addr().Is4In6() {
		family = 2
	}
	return &dns.EDNS0_SUBNET{
		Code:          dns.EDNS0SUBNET,
		Family:        family,
		SourceNetmask: uint8(p.Bits()),
		Address:       p.Addr().Unmap().AsSlice(),
	}
}

// clientCookie derives an 8-byte client cookie (hex) from the message id; a
// real client would keep one per server, which is enough to elicit a server
// cookie in the reply.
func clientCookie(id uint16) string {
	return fmt.Sprintf("%04x%012x", id, uint64(0x6473736369656e63)&0xffffffffffff)
}

// ednsOptionCodes names the EDNS options dig's +ednsopt accepts by name.
var ednsOptionCodes = map[string]uint16{
	"llq": 1, "ul": 2, "update-lease": 2, "nsid": 3, "esu": 4, "dau": 5, "dhu": 6, "n3u": 7,
	"ecs": 8, "client-subnet": 8, "subnet": 8, "expire": 9, "cookie": 10, "keepalive": 11, "tcp-keepalive": 11,
	"padding": 12, "chain": 13, "key-tag": 14, "ede": 15, "client-tag": 16, "server-tag": 17,
}

// ParseEDNSOption parses dig's +ednsopt value: CODE[:HEX], the code a
// number from 0 to 65535 or an option name (nsid, ecs, cookie, padding ...).
func ParseEDNSOption(s string) (EDNSOption, error) {
	name, value, _ := strings.Cut(s, ":")
	code, ok := ednsOptionCodes[strings.ToLower(name)]
	if !ok {
		n, err := strconv.ParseUint(name, 10, 16)
		if err != nil {
			return EDNSOption{}, fmt.Errorf("+ednsopt=%s: %q is neither an option code from 0 to 65535 nor an option name such as nsid, ecs, cookie or padding", s, name)
		}
		code = uint16(n)
	}
	data, err := hex.DecodeString(value)
	if err != nil {
		return EDNSOption{}, fmt.Errorf("+ednsopt=%s: the value must be hex digits (an even number of them)", s)
	}
	return EDNSOption{Code: code, Data: data}, nil
}
