package dnsq

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/miekg/dns"
)

// AppendJSON appends r's JSON form and a newline to dst: byte for byte what
// encoding/json writes with SetEscapeHTML(false), without reflection, since
// a bulk run writes one per name.
func (r *BulkResult) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"line":`...)
	dst = strconv.AppendInt(dst, int64(r.Line), 10)
	dst = appendField(dst, "name", r.Name)
	dst = appendField(dst, "type", r.Type)
	if r.Server != "" {
		dst = appendField(dst, "server", r.Server)
	}
	if r.Transport != "" {
		dst = appendField(dst, "transport", string(r.Transport))
	}
	if r.Rcode != "" {
		dst = appendField(dst, "rcode", r.Rcode)
	}
	dst = append(dst, `,"answer":`...)
	if r.Answer == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i := range r.Answer {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendRecord(dst, &r.Answer[i])
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"rtt_ms":`...)
	dst = appendFloat(dst, r.RTTMs)
	dst = append(dst, `,"tries":`...)
	dst = strconv.AppendInt(dst, int64(r.Tries), 10)
	if r.Error != "" {
		dst = appendField(dst, "error", r.Error)
	}
	return append(dst, '}', '\n')
}

func appendRecord(dst []byte, rec *Record) []byte {
	dst = append(dst, `{"name":`...)
	dst = appendString(dst, rec.Name)
	dst = appendField(dst, "type", rec.Type)
	dst = appendField(dst, "class", rec.Class)
	dst = append(dst, `,"ttl":`...)
	dst = strconv.AppendUint(dst, uint64(rec.TTL), 10)
	dst = appendField(dst, "data", rec.Data)
	return append(dst, '}')
}

func appendField(dst []byte, key, val string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, '"', ':')
	return appendString(dst, val)
}

// appendFloat formats f as encoding/json does.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(dst, '0') // encoding/json would fail; RTTs are finite
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' { // clean up e-09 to e-9, as encoding/json does
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does without HTML escaping:
// control characters escaped, invalid UTF-8 replaced by U+FFFD, U+2028 and
// U+2029 escaped.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// bulkRecords is Records with a shortcut for A records, the bulk of bulk
// answers; the output is the same.
func bulkRecords(rrs []dns.RR) []Record {
	out := make([]Record, 0, len(rrs))
	for _, rr := range rrs {
		h := rr.Header()
		var data string
		switch v := rr.(type) {
		case *dns.A:
			data = v.A.String()
		default:
			data = RData(rr)
		}
		out = append(out, Record{Name: h.Name, Type: TypeString(h.Rrtype), Class: ClassString(h.Class), TTL: h.Ttl, Data: data})
	}
	return out
}
