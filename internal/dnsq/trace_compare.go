package dnsq

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// serverReply is one server's reply during an all-servers comparison.
type serverReply struct {
	label string
	msg   *dns.Msg
}

// askEach sends the same question to every usable address of every server,
// concurrently, and returns the usable replies; failures become findings.
func (w *walk) askEach(ctx context.Context, zone string, servers []NSHost, name string, qtype uint16) []serverReply {
	var (
		mu  sync.Mutex
		out []serverReply
		wg  sync.WaitGroup
	)
	for _, h := range servers {
		addrs := w.t.usable(h.Addrs)
		if len(addrs) == 0 {
			w.finding(Finding{Kind: "unreachable", Zone: zone, Server: h.Name, Detail: "no address found for this name server"})
		}
		for _, a := range addrs {
			wg.Add(1)
			go func(h NSHost, a netip.Addr) {
				defer wg.Done()
				resp, err := w.query(ctx, a, name, qtype)
				if problem := judge(resp, err, zone, name); problem != "" {
					w.finding(Finding{Kind: kindOf(err), Zone: zone, Server: label(h.Name, a), Detail: problem})
					return
				}
				mu.Lock()
				out = append(out, serverReply{label: label(h.Name, a), msg: resp.Msg})
				mu.Unlock()
			}(h, a)
		}
	}
	wg.Wait()
	sort.Slice(out, func(i, j int) bool { return out[i].label < out[j].label })
	return out
}

// compareAll asks every server of zone the traced question and reports
// servers that are lame and servers whose referrals or answers differ.
func (w *walk) compareAll(ctx context.Context, zone string, servers []NSHost, name string, qtype uint16) {
	replies := w.askEach(ctx, zone, servers, name, qtype)
	groups := map[string][]string{}
	kind := "answer_differs"
	for _, r := range replies {
		sig, isReferral := signature(r.msg, zone, name)
		if isReferral {
			kind = "referral_differs"
		}
		groups[sig] = append(groups[sig], r.label)
	}
	if len(groups) > 1 {
		w.finding(Finding{Kind: kind, Zone: zone, Detail: describeGroups(groups)})
	}
}

// compareSerials asks every server of the zone for its SOA and reports
// differing serials.
func (w *walk) compareSerials(ctx context.Context, zone string, servers []NSHost) {
	groups := map[string][]string{}
	for _, r := range w.askEach(ctx, zone, servers, zone, dns.TypeSOA) {
		for _, rr := range r.msg.Answer {
			if soa, ok := rr.(*dns.SOA); ok {
				key := fmt.Sprintf("serial %d", soa.Serial)
				groups[key] = append(groups[key], r.label)
			}
		}
	}
	if len(groups) > 1 {
		w.finding(Finding{Kind: "serial_differs", Zone: zone, Detail: describeGroups(groups)})
	}
}

// signature summarises a reply for comparison: the referral's NS set, or
// the rcode and the answer's data.
func signature(m *dns.Msg, zone, name string) (string, bool) {
	if cut, hosts := referral(m, zone, name); cut != "" {
		names := make([]string, 0, len(hosts))
		for _, h := range hosts {
			names = append(names, h.Name)
		}
		slices.Sort(names)
		return "referral to " + cut + " NS " + strings.Join(names, " "), true
	}
	var data []string
	for _, rr := range m.Answer {
		data = append(data, TypeString(rr.Header().Rrtype)+" "+RData(rr))
	}
	slices.Sort(data)
	if len(data) == 0 {
		return RcodeString(m.Rcode) + " (no answer)", false
	}
	return RcodeString(m.Rcode) + ": " + strings.Join(data, ", "), false
}

func describeGroups(groups map[string][]string) string {
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s from %s", k, strings.Join(groups[k], ", ")))
	}
	return strings.Join(parts, "; ")
}

// compareDelegation checks a referral against the child zone: the NS set
// the parent lists against the one the child's servers give, and the
// parent's glue for in-zone name servers against the child's addresses for
// them.
func (w *walk) compareDelegation(ctx context.Context, cut string, hosts []NSHost) {
	replies := w.askEach(ctx, cut, hosts, cut, dns.TypeNS)
	if len(replies) == 0 {
		return
	}
	parent := make([]string, 0, len(hosts))
	for _, h := range hosts {
		parent = append(parent, h.Name)
	}
	child := nsNames(replies[0].msg, cut)
	slices.Sort(parent)
	if p, c := strings.Join(parent, " "), strings.Join(child, " "); p != c && len(child) > 0 {
		w.finding(Finding{Kind: "ns_differs", Zone: cut, Detail: fmt.Sprintf("the parent lists NS %s; the child (%s) lists %s", p, replies[0].label, c)})
	}
	for _, h := range hosts {
		if len(h.Addrs) == 0 || !dns.IsSubDomain(cut, h.Name) {
			continue
		}
		w.compareGlue(ctx, cut, hosts, h)
	}
}

// compareGlue compares the parent's glue for h with the addresses the
// child's first answering server gives for h, when it gives any.
func (w *walk) compareGlue(ctx context.Context, cut string, hosts []NSHost, h NSHost) {
	var child []string
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		replies := w.askEach(ctx, cut, hosts, h.Name, qt)
		if len(replies) == 0 {
			return
		}
		for _, rr := range replies[0].msg.Answer {
			switch v := rr.(type) {
			case *dns.A:
				child = append(child, v.A.String())
			case *dns.AAAA:
				child = append(child, v.AAAA.String())
			}
		}
	}
	glue := make([]string, 0, len(h.Addrs))
	for _, a := range h.Addrs {
		glue = append(glue, a.String())
	}
	slices.Sort(glue)
	slices.Sort(child)
	// A child that holds no address for the name gives nothing to compare.
	if g, c := strings.Join(glue, " "), strings.Join(child, " "); c != "" && g != c {
		w.finding(Finding{Kind: "glue_differs", Zone: cut, Server: h.Name, Detail: fmt.Sprintf("the parent's glue is %s; the child says %s", g, c)})
	}
}

func nsNames(m *dns.Msg, zone string) []string {
	var out []string
	for _, rr := range m.Answer {
		if ns, ok := rr.(*dns.NS); ok && SameName(ns.Hdr.Name, zone) {
			out = append(out, dns.CanonicalName(ns.Ns))
		}
	}
	slices.Sort(out)
	return out
}
