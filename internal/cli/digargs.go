package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// digQuestion is one name with the types asked for it.
type digQuestion struct {
	name  string
	types []uint16
}

// digArgs is the parsed positional part of a dig command line:
// [@server] [name] [type] [class] [+option] ..., in any order, as dig takes it.
type digArgs struct {
	server    string
	questions []digQuestion
	types     []uint16 // types given before any name (bulk mode uses them)
	class     uint16
	short     bool
	trace     bool
	query     dnsq.Query // flags and EDNS options from +options
	tcp       bool
	tcpSet    bool // +tcp or +notcp given: ANY stays on the transport asked for
	ignoreTC  bool
	tries     int
	timeout   time.Duration
	// ixfrSerial is the serial of IXFR=N, the version the asker holds.
	ixfrSerial uint32
	// tlsHostname and tlsCA are kdig's +tls-hostname= and +tls-ca=: the
	// name the DoT/DoH certificate must carry, and a PEM file of CAs.
	tlsHostname, tlsCA string
	// display holds dig's output options (+noall +answer, +multi ...).
	display digDisplay
}

// parseDigArgs parses dig-style positional arguments. Names are validated
// and converted (IDN) here, so every error is a usage error.
func parseDigArgs(args []string) (digArgs, error) {
	a := digArgs{display: defaultDisplay()}
	var pendingTypes []uint16
	for _, arg := range args {
		switch {
		case strings.HasPrefix(arg, "@"):
			if a.server != "" {
				return a, fmt.Errorf("two servers given (%s and %s); give one @server", a.server, arg)
			}
			if len(arg) == 1 {
				return a, fmt.Errorf("empty server after @; want @host[:port], @tls://host, @https://host/path or @resolver-name")
			}
			a.server = arg
		case strings.HasPrefix(arg, "+"):
			if err := a.plusOption(arg[1:]); err != nil {
				return a, err
			}
		default:
			if serial, ok, err := ixfrArg(arg); ok {
				if err != nil {
					return a, err
				}
				a.ixfrSerial = serial
				arg = "IXFR"
			}
			if t, ok := typeArg(arg); ok {
				if len(a.questions) == 0 {
					pendingTypes = append(pendingTypes, t)
				} else {
					q := &a.questions[len(a.questions)-1]
					q.types = append(q.types, t)
				}
				continue
			}
			if strings.EqualFold(arg, "TYPE0") {
				return a, fmt.Errorf("type 0 (TYPE0) is reserved (RFC 6895) and cannot be asked for")
			}
			if c, ok := classArg(arg); ok {
				a.class = c
				continue
			}
			name, err := dnsq.NormalizeName(arg)
			if err != nil {
				return a, err
			}
			a.questions = append(a.questions, digQuestion{name: name})
		}
	}
	if len(pendingTypes) > 0 {
		if len(a.questions) == 0 {
			a.types = pendingTypes
		} else {
			a.questions[0].types = append(pendingTypes, a.questions[0].types...)
		}
	}
	return a, nil
}

// ixfrArg recognises dig's IXFR=serial.
func ixfrArg(s string) (uint32, bool, error) {
	if len(s) < 5 || !strings.EqualFold(s[:5], "IXFR=") {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(s[5:], 10, 32)
	if err != nil {
		return 0, true, fmt.Errorf("%s: the IXFR serial must be a number from 0 to 4294967295", s)
	}
	return uint32(n), true, nil
}

// typeArg recognises a type mnemonic or TYPEnnn; bare numbers are names.
func typeArg(s string) (uint16, bool) {
	if _, err := strconv.Atoi(s); err == nil {
		return 0, false
	}
	return dnsq.ParseType(s)
}

// classArg recognises IN, CH, HS, CLASSnnn (not ANY, which dig reads as a type).
func classArg(s string) (uint16, bool) {
	if strings.EqualFold(s, "ANY") || strings.EqualFold(s, "NONE") {
		return 0, false
	}
	if _, err := strconv.Atoi(s); err == nil {
		return 0, false
	}
	return dnsq.ParseClass(s)
}

// plusOption applies one of dig's +options.
func (a *digArgs) plusOption(opt string) error {
	key, val, hasVal := strings.Cut(opt, "=")
	key = strings.ToLower(key)
	no := strings.HasPrefix(key, "no")
	base := strings.TrimPrefix(key, "no")
	bools := map[string]*bool{
		"short": &a.short, "trace": &a.trace, "tcp": &a.tcp, "vc": &a.tcp, "ignore": &a.ignoreTC,
		"dnssec": &a.query.DO, "nsid": &a.query.NSID, "cookie": &a.query.Cookie,
		"cdflag": &a.query.CD, "cd": &a.query.CD, "adflag": &a.query.AD, "ad": &a.query.AD,
	}
	if !hasVal && a.display.set(base, !no) {
		return nil
	}
	if p, ok := bools[base]; ok && !hasVal {
		*p = !no
		a.tcpSet = a.tcpSet || p == &a.tcp
		return nil
	}
	switch {
	case (base == "recurse" || base == "rec") && !hasVal:
		a.query.NoRecurse = no
	case base == "edns" && !hasVal:
		a.query.NoEDNS = no
	case key == "edns" && val == "0":
		a.query.NoEDNS = false
	case key == "bufsize" && hasVal:
		n, err := strconv.ParseUint(val, 10, 16)
		if err != nil {
			return fmt.Errorf("+bufsize=%s: want a number from 0 to 65535", val)
		}
		a.query.UDPSize = uint16(n)
	case key == "subnet" && hasVal:
		p, err := dnsq.ParseClientSubnet(val)
		if err != nil {
			return err
		}
		a.query.ClientSubnet = p
	case key == "tls-hostname" && hasVal && val != "":
		name, err := dnsq.NormalizeName(val)
		if err != nil {
			return fmt.Errorf("+tls-hostname=%s: %w", val, err)
		}
		a.tlsHostname = strings.TrimSuffix(name, ".")
	case key == "tls-ca" && !hasVal:
		a.tlsCA = "" // system roots, the default
	case key == "tls-ca" && hasVal && val != "":
		a.tlsCA = val
	case key == "ednsopt" && hasVal:
		o, err := dnsq.ParseEDNSOption(val)
		if err != nil {
			return err
		}
		a.query.Options = append(a.query.Options, o)
	case key == "noednsopt" && !hasVal:
		a.query.Options = nil
	case key == "tries" && hasVal:
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 || n > 10 {
			return fmt.Errorf("+tries=%s: want a number from 1 to 10", val)
		}
		a.tries = n
	case key == "time" && hasVal:
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 || n > 300 {
			return fmt.Errorf("+time=%s: want seconds from 1 to 300", val)
		}
		a.timeout = time.Duration(n) * time.Second
	default:
		return fmt.Errorf("unknown option +%s; known: +short +trace +tcp +ignore +dnssec +nsid +cookie +[no]recurse +[no]edns +cdflag +adflag +bufsize=N +subnet=CIDR +tries=N +time=N +tls-hostname=NAME +tls-ca[=FILE] +[no]all +[no]cmd +[no]comments +[no]question +[no]answer +[no]authority +[no]additional +[no]stats +qr +ttlunits +multi +yaml +ednsopt=CODE[:HEX]", opt)
	}
	return nil
}
