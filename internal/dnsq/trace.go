package dnsq

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// ErrTraceFailed is wrapped when no server at some level gave a usable reply.
var ErrTraceFailed = errors.New("trace failed")

// Tracer resolves a name iteratively from the root, as dig +trace does,
// following referrals, using glue and resolving glueless name server names.
// The zero value starts from the shipped root hints over IPv4 on port 53.
type Tracer struct {
	// Client sends the queries; nil means a Client with 2 s timeouts and 2 tries.
	Client *Client
	// Roots are the root servers; nil means RootHints().
	Roots []NSHost
	// Port is the port of every server asked; 0 means 53. Tests set it to
	// run a whole delegation tree on loopback.
	Port int
	// IPv6 also asks name servers on their IPv6 addresses.
	IPv6 bool
	// AllServers asks every name server of every zone on the path and
	// reports where they disagree: lame servers, different referrals or
	// answers, SOA serials that differ.
	AllServers bool
	// MaxReferrals bounds the walk; 0 means 30.
	MaxReferrals int
	// DNSSEC sets the DO bit on every query, so that referrals carry DS
	// (or the NSEC/NSEC3 denying it) and RRSIGs, and asks each zone's
	// server for the zone's DNSKEY set on the way down.
	DNSSEC bool
}

// TraceStep is one level of the walk: the zone whose server answered, the
// server, and the records it returned (a referral, or the final answer).
type TraceStep struct {
	Zone       string   `json:"zone"`
	Server     string   `json:"server"`     // name server name
	Addr       string   `json:"address"`    // address#port asked
	RTTMs      float64  `json:"rtt_ms"`     // round-trip time
	Size       int      `json:"reply_size"` // bytes received
	Rcode      string   `json:"rcode"`      // NOERROR, NXDOMAIN ...
	Kind       string   `json:"kind"`       // "root", "referral" or "answer"
	NextZone   string   `json:"next_zone,omitempty"`
	Records    []Record `json:"records"`            // what dig +trace prints for the step
	Glueless   []string `json:"glueless,omitempty"` // NS names resolved separately
	Authority  bool     `json:"authoritative"`
	ServersAsk int      `json:"servers_asked"` // servers tried at this level
	// DNSKEY is the zone's DNSKEY set and its RRSIGs, from the same server
	// (with Tracer.DNSSEC).
	DNSKEY []Record `json:"dnskey,omitempty"`
}

// Finding is one problem seen while tracing with AllServers (or a lame
// server met on the way).
type Finding struct {
	Kind   string `json:"kind"` // lame, unreachable, referral_differs, answer_differs, serial_differs
	Zone   string `json:"zone"`
	Server string `json:"server,omitempty"` // name (address)
	Detail string `json:"detail"`
}

// TraceResult is a whole trace.
type TraceResult struct {
	Name     string      `json:"name"`
	Type     string      `json:"type"`
	Steps    []TraceStep `json:"steps"`
	Rcode    string      `json:"rcode,omitempty"` // of the final answer
	Answer   []Record    `json:"answer"`
	Findings []Finding   `json:"findings"`
	Error    string      `json:"error,omitempty"`
}

// Trace walks from the root to the servers authoritative for name and asks
// them for qtype. onStep, if not nil, is called as each step completes.
func (t *Tracer) Trace(ctx context.Context, name string, qtype uint16, onStep func(TraceStep)) (*TraceResult, error) {
	name = dns.CanonicalName(name)
	res := &TraceResult{Name: name, Type: TypeString(qtype), Answer: []Record{}, Findings: []Finding{}}
	emit := func(s TraceStep) {
		res.Steps = append(res.Steps, s)
		if onStep != nil {
			onStep(s)
		}
	}
	w := &walk{t: t, res: res}
	servers := t.roots()
	// Like dig +trace, start by asking a root server for the root NS set.
	rootStep, _, err := w.ask(ctx, ".", servers, ".", dns.TypeNS)
	if err != nil {
		res.Error = err.Error()
		return res, err
	}
	rootStep.Kind = "root"
	emit(rootStep)
	if err := w.descend(ctx, name, qtype, emit); err != nil {
		res.Error = err.Error()
		return res, err
	}
	return res, nil
}

// descend walks from the roots down the referrals to the servers that
// answer for name, reporting each referral and the answer through emit and
// filling w.res with the answer. With AllServers it asks every server of
// every zone and records where they disagree.
func (w *walk) descend(ctx context.Context, name string, qtype uint16, emit func(TraceStep)) error {
	t := w.t
	zone, servers := ".", t.roots()
	for range t.maxReferrals() {
		step, reply, err := w.ask(ctx, zone, servers, name, qtype)
		if err != nil {
			return err
		}
		if t.AllServers {
			w.compareAll(ctx, zone, servers, name, qtype)
			w.compareSerials(ctx, zone, servers)
		}
		if t.DNSSEC {
			step.DNSKEY = w.dnskeys(ctx, step.Addr, zone)
		}
		cut, hosts := referral(reply, zone, name)
		if cut == "" {
			step.Kind = "answer"
			w.res.Rcode = step.Rcode
			w.res.Answer = Records(reply.Answer)
			emit(step)
			return nil
		}
		step.Kind, step.NextZone = "referral", cut
		for i, h := range hosts {
			if len(t.usable(h.Addrs)) == 0 && (t.AllServers || !anyUsable(t, hosts)) {
				hosts[i].Addrs = w.resolveHost(ctx, h.Name)
				step.Glueless = append(step.Glueless, h.Name)
			}
		}
		emit(step)
		if t.AllServers {
			w.compareDelegation(ctx, cut, hosts)
		}
		zone, servers = cut, hosts
	}
	return fmt.Errorf("%w: more than %d referrals for %s", ErrTraceFailed, t.maxReferrals(), name)
}

func anyUsable(t *Tracer, hosts []NSHost) bool {
	for _, h := range hosts {
		if len(t.usable(h.Addrs)) > 0 {
			return true
		}
	}
	return false
}

func (t *Tracer) maxReferrals() int {
	if t.MaxReferrals > 0 {
		return t.MaxReferrals
	}
	return 30
}

func (t *Tracer) client() *Client {
	if t.Client != nil {
		return t.Client
	}
	return &Client{Timeout: 2e9, Tries: 2}
}

func (t *Tracer) roots() []NSHost {
	if len(t.Roots) > 0 {
		return slices.Clone(t.Roots)
	}
	return RootHints()
}

func (t *Tracer) port() string {
	if t.Port > 0 {
		return strconv.Itoa(t.Port)
	}
	return "53"
}

// usable keeps the addresses the tracer may ask (IPv4, and IPv6 if enabled).
func (t *Tracer) usable(addrs []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, a := range addrs {
		if a.Is4() || a.Is4In6() || t.IPv6 {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// walk is the state of one trace.
type walk struct {
	t     *Tracer
	res   *TraceResult
	mu    sync.Mutex
	depth int
	// dead holds the addresses that did not answer, with their error: a
	// server that timed out is not asked again in the same trace.
	dead map[netip.Addr]error
}

// finding records f once: a server's failure is reported once per zone
// however many questions met it.
func (w *walk) finding(f Finding) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, g := range w.res.Findings {
		sameServer := f.Server != "" && (f.Kind == "unreachable" || f.Kind == "lame") && g.Kind == f.Kind && g.Server == f.Server && g.Zone == f.Zone
		if g == f || sameServer {
			return
		}
	}
	w.res.Findings = append(w.res.Findings, f)
}

// ask queries the zone's servers in order until one gives a usable reply;
// servers that fail are recorded as lame or unreachable.
func (w *walk) ask(ctx context.Context, zone string, servers []NSHost, name string, qtype uint16) (TraceStep, *dns.Msg, error) {
	asked := 0
	var lastErr error
	for _, h := range servers {
		for _, a := range w.t.usable(h.Addrs) {
			asked++
			resp, err := w.query(ctx, a, name, qtype)
			if ctx.Err() != nil {
				return TraceStep{}, nil, ctx.Err()
			}
			if problem := judge(resp, err, zone, name); problem != "" {
				w.finding(Finding{Kind: kindOf(err), Zone: zone, Server: label(h.Name, a), Detail: problem})
				lastErr = errors.New(problem)
				continue
			}
			return w.step(zone, h, resp, asked), resp.Msg, nil
		}
	}
	if asked == 0 {
		return TraceStep{}, nil, fmt.Errorf("%w: no address for any name server of %s", ErrTraceFailed, zone)
	}
	return TraceStep{}, nil, fmt.Errorf("%w: none of %d servers for %s answered usably (last: %v)", ErrTraceFailed, asked, zone, lastErr)
}

func (w *walk) query(ctx context.Context, a netip.Addr, name string, qtype uint16) (*Response, error) {
	w.mu.Lock()
	err := w.dead[a]
	w.mu.Unlock()
	if err != nil {
		return nil, err
	}
	srv := Server{Transport: UDP, Addr: net.JoinHostPort(a.String(), w.t.port())}
	resp, err := w.t.client().Exchange(ctx, srv, Query{Name: name, Type: qtype, NoRecurse: true, DO: w.t.DNSSEC})
	if err != nil && ctx.Err() == nil {
		w.mu.Lock()
		if w.dead == nil {
			w.dead = map[netip.Addr]error{}
		}
		w.dead[a] = err
		w.mu.Unlock()
	}
	return resp, err
}

// dnskeys asks the server at addr ("ip#port", as in a step) for zone's
// DNSKEY set; nil when it gives none.
func (w *walk) dnskeys(ctx context.Context, addr, zone string) []Record {
	host, port, ok := strings.Cut(addr, "#")
	if !ok {
		return nil
	}
	srv := Server{Transport: UDP, Addr: net.JoinHostPort(host, port)}
	resp, err := w.t.client().Exchange(ctx, srv, Query{Name: zone, Type: dns.TypeDNSKEY, NoRecurse: true, DO: true})
	if err != nil || resp.Msg.Rcode != dns.RcodeSuccess {
		return nil
	}
	return Records(resp.Msg.Answer)
}

func (w *walk) step(zone string, h NSHost, resp *Response, asked int) TraceStep {
	m := resp.Msg
	recs := m.Answer
	if len(recs) == 0 {
		recs = m.Ns
	}
	host, port, _ := net.SplitHostPort(resp.Server.Addr)
	return TraceStep{
		Zone: zone, Server: h.Name, Addr: host + "#" + port, RTTMs: Millis(resp.RTT), Size: resp.RecvSize,
		Rcode: RcodeString(m.Rcode), Records: Records(recs), Authority: m.Authoritative, ServersAsk: asked,
	}
}

// judge says what is wrong with a reply from a server of zone, or "".
func judge(resp *Response, err error, zone, name string) string {
	if err != nil {
		return err.Error()
	}
	m := resp.Msg
	switch m.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
	default:
		return "answered " + RcodeString(m.Rcode)
	}
	if m.Authoritative {
		return ""
	}
	if cut, _ := referral(m, zone, name); cut != "" {
		return ""
	}
	if zone == "." && name == "." {
		return "" // root NS asked of a root server
	}
	return "not authoritative for " + zone + " and no referral (lame)"
}

func kindOf(err error) string {
	if err != nil {
		return "unreachable"
	}
	return "lame"
}

func label(name string, a netip.Addr) string { return fmt.Sprintf("%s (%s)", name, a) }

// referral returns the child zone a reply delegates to, with its name
// servers and glue, when the reply is a referral from zone towards name.
func referral(m *dns.Msg, zone, name string) (string, []NSHost) {
	if len(m.Answer) > 0 || m.Rcode != dns.RcodeSuccess {
		return "", nil
	}
	cut := ""
	var hosts []NSHost
	for _, rr := range m.Ns {
		ns, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		owner := dns.CanonicalName(ns.Hdr.Name)
		if owner == dns.CanonicalName(zone) || !dns.IsSubDomain(zone, owner) || !dns.IsSubDomain(owner, name) {
			continue // upward or sideways referral
		}
		cut = owner
		hosts = append(hosts, NSHost{Name: dns.CanonicalName(ns.Ns), Addrs: glue(m, ns.Ns)})
	}
	return cut, hosts
}

func glue(m *dns.Msg, host string) []netip.Addr {
	var out []netip.Addr
	for _, rr := range m.Extra {
		if !strings.EqualFold(rr.Header().Name, host) {
			continue
		}
		switch v := rr.(type) {
		case *dns.A:
			if a, ok := netip.AddrFromSlice(v.A.To4()); ok {
				out = append(out, a)
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(v.AAAA); ok {
				out = append(out, a)
			}
		}
	}
	return out
}

// resolveHost finds the addresses of a glueless name server by a separate
// iterative resolution from the root.
func (w *walk) resolveHost(ctx context.Context, host string) []netip.Addr {
	if w.depth >= 4 {
		return nil
	}
	sub := *w.t
	sub.AllServers = false
	var out []netip.Addr
	types := []uint16{dns.TypeA}
	if w.t.IPv6 {
		types = append(types, dns.TypeAAAA)
	}
	for _, qt := range types {
		sw := &walk{t: &sub, res: &TraceResult{}, depth: w.depth + 1}
		if err := sw.descend(ctx, host, qt, func(TraceStep) {}); err != nil {
			continue
		}
		for _, r := range sw.res.Answer {
			if a, err := netip.ParseAddr(r.Data); err == nil && (r.Type == "A" || r.Type == "AAAA") {
				out = append(out, a)
			}
		}
	}
	return out
}
