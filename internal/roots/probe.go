package roots

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// Target is one address of one root server letter to ask.
type Target struct {
	Letter string         `json:"letter"`
	Addr   netip.AddrPort `json:"addr"`
}

// Targets lists the addresses of servers to ask: IPv4 and IPv6, or one
// family when version is 4 or 6.
func Targets(servers []Server, version int) []Target {
	var out []Target
	for _, s := range servers {
		for _, a := range []string{s.IPv4, s.IPv6} {
			addr, err := netip.ParseAddr(a)
			if err != nil || version == 4 && !addr.Is4() || version == 6 && !addr.Is6() {
				continue
			}
			out = append(out, Target{Letter: s.Letter, Addr: netip.AddrPortFrom(addr, 53)})
		}
	}
	return out
}

// Answer is what one address of a letter said.
type Answer struct {
	Letter string `json:"letter"`
	Family string `json:"family"` // ipv4 or ipv6
	Addr   string `json:"addr"`
	// Instance names the instance that answered: the NSID, else
	// hostname.bind, else id.server.
	Instance     string `json:"instance,omitempty"`
	NSID         string `json:"nsid,omitempty"`
	HostnameBind string `json:"hostname_bind,omitempty"`
	IDServer     string `json:"id_server,omitempty"`
	// RTTMs is the fastest of the three questions' round trips.
	RTTMs float64 `json:"rtt_ms,omitempty"`
	Error string  `json:"error,omitempty"`
}

// Result is every address asked.
type Result struct {
	Answers  []Answer `json:"answers"`
	Answered int      `json:"answered"`
	Total    int      `json:"total"`
}

// Prober asks root servers which instance answers.
type Prober struct {
	// Client sends the questions (its Dialer applies the target policy);
	// nil means a plain client with a 2 s timeout and 2 tries.
	Client *dnsq.Client
}

// Run asks every target at once — the root zone's SOA with the NSID
// option, and CH TXT hostname.bind and id.server — and hands each answer
// to each as it completes (may be nil). Answers are in the targets' order.
func (p *Prober) Run(ctx context.Context, targets []Target, each func(Answer)) *Result {
	c := p.Client
	if c == nil {
		c = &dnsq.Client{Timeout: 2 * time.Second, Tries: 2}
	}
	res := &Result{Answers: make([]Answer, len(targets)), Total: len(targets)}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			a := ask(ctx, c, t)
			mu.Lock()
			defer mu.Unlock()
			res.Answers[i] = a
			if a.Error == "" {
				res.Answered++
			}
			if each != nil {
				each(a)
			}
		})
	}
	wg.Wait()
	return res
}

// ask puts the three questions to one address at once.
func ask(ctx context.Context, c *dnsq.Client, t Target) Answer {
	a := Answer{Letter: t.Letter, Addr: t.Addr.String(), Family: "ipv4"}
	if t.Addr.Addr().Is6() {
		a.Family = "ipv6"
	}
	srv := dnsq.Server{Transport: dnsq.UDP, Addr: t.Addr.String()}
	qs := []dnsq.Query{
		{Name: ".", Type: dns.TypeSOA, NoRecurse: true, NSID: true},
		{Name: "hostname.bind.", Type: dns.TypeTXT, Class: dns.ClassCHAOS, NoRecurse: true},
		{Name: "id.server.", Type: dns.TypeTXT, Class: dns.ClassCHAOS, NoRecurse: true},
	}
	resps := make([]*dnsq.Response, len(qs))
	errs := make([]error, len(qs))
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Go(func() { resps[i], errs[i] = c.Exchange(ctx, srv, q) })
	}
	wg.Wait()
	for i, r := range resps {
		if r == nil {
			continue
		}
		if ms := float64(r.RTT) / float64(time.Millisecond); a.RTTMs == 0 || ms < a.RTTMs {
			a.RTTMs = ms
		}
		switch i {
		case 0:
			a.NSID = nsidOf(r.Msg)
		case 1:
			a.HostnameBind = txtOf(r.Msg)
		case 2:
			a.IDServer = txtOf(r.Msg)
		}
	}
	if resps[0] == nil && resps[1] == nil && resps[2] == nil {
		a.Error = fmt.Sprintf("no answer: %v", errs[0])
	}
	for _, x := range []string{a.NSID, a.HostnameBind, a.IDServer} {
		if x != "" {
			a.Instance = x
			break
		}
	}
	return a
}

// nsidOf is a reply's NSID as text when printable, else as hex.
func nsidOf(m *dns.Msg) string {
	opt := m.IsEdns0()
	if opt == nil {
		return ""
	}
	for _, o := range opt.Option {
		if n, ok := o.(*dns.EDNS0_NSID); ok {
			b, err := hex.DecodeString(n.Nsid)
			if err != nil {
				return n.Nsid
			}
			if strings.IndexFunc(string(b), func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
				return n.Nsid
			}
			return string(b)
		}
	}
	return ""
}

func txtOf(m *dns.Msg) string {
	if m.Rcode != dns.RcodeSuccess {
		return ""
	}
	for _, rr := range m.Answer {
		if t, ok := rr.(*dns.TXT); ok {
			return strings.Join(t.Txt, "")
		}
	}
	return ""
}
