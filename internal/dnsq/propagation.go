package dnsq

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// Propagation asks many resolvers the same question at once and groups
// their answers, to see whether a change has reached all of them.
type Propagation struct {
	// Client sends the queries; nil means a Client with 3 s timeouts and 2 tries.
	Client *Client
	// Resolvers to ask; each is asked on the Transport (UDP by default).
	Resolvers []Resolver
	// Transport picks plain DNS (udp, tcp), DoT (tls) or DoH (https).
	Transport Transport
	// Expect lists values every resolver's answer must contain (compared
	// with the record data, case-insensitively, trailing dot optional).
	Expect []string
	// Query carries flags and EDNS options; Name and Type are set by Run.
	Query Query
}

// ResolverAnswer is one resolver's answer.
type ResolverAnswer struct {
	Resolver string    `json:"resolver"`
	Operator string    `json:"operator,omitempty"`
	Server   string    `json:"server"`
	Location *Location `json:"location,omitempty"`
	Rcode    string    `json:"rcode,omitempty"`
	Answers  []string  `json:"answers"`         // sorted "TYPE data" of the answer section
	TTL      uint32    `json:"ttl"`             // lowest remaining TTL in the answer
	RTTMs    float64   `json:"rtt_ms"`          // round-trip time
	Error    string    `json:"error,omitempty"` // set when the resolver failed
	Group    int       `json:"group"`           // index into Groups, -1 when failing
	Missing  []string  `json:"missing,omitempty"`
}

// AnswerGroup is a set of resolvers that gave the same answer.
type AnswerGroup struct {
	Rcode     string   `json:"rcode"`
	Answers   []string `json:"answers"`
	Resolvers []string `json:"resolvers"`
}

// PropagationResult is the whole comparison and its verdict.
type PropagationResult struct {
	Name       string           `json:"name"`
	Type       string           `json:"type"`
	Results    []ResolverAnswer `json:"results"`
	Groups     []AnswerGroup    `json:"groups"`
	Failing    []string         `json:"failing"`          // resolvers that timed out or answered SERVFAIL/REFUSED
	Missing    []string         `json:"missing_expected"` // "resolver: value" for expected values not seen
	Consistent bool             `json:"consistent"`       // one group, nothing failing, nothing missing
	Verdict    string           `json:"verdict"`          // consistent, inconsistent, failing, expected value missing
}

// Run asks every resolver for name and qtype concurrently. onAnswer, if not
// nil, is called (from one goroutine at a time) as each answer arrives.
func (p *Propagation) Run(ctx context.Context, name string, qtype uint16, onAnswer func(ResolverAnswer)) (*PropagationResult, error) {
	if len(p.Resolvers) == 0 {
		return nil, fmt.Errorf("propagation: no resolvers to ask")
	}
	q := p.Query
	q.Name, q.Type = dns.Fqdn(name), qtype
	results := make([]ResolverAnswer, len(p.Resolvers))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, r := range p.Resolvers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := p.ask(ctx, r, q)
			mu.Lock()
			defer mu.Unlock()
			results[i] = a
			if onAnswer != nil {
				onAnswer(a)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return p.summarise(q, results), nil
}

func (p *Propagation) client() *Client {
	if p.Client != nil {
		return p.Client
	}
	return &Client{Timeout: 3e9, Tries: 2}
}

func (p *Propagation) ask(ctx context.Context, r Resolver, q Query) ResolverAnswer {
	a := ResolverAnswer{Resolver: r.Name, Operator: r.Operator, Location: r.Location, Answers: []string{}, Group: -1}
	srv, err := r.Server(p.Transport)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	a.Server = srv.String()
	resp, err := p.client().Exchange(ctx, srv, q)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	a.RTTMs = Millis(resp.RTT)
	a.Rcode = RcodeString(resp.Msg.Rcode)
	for i, rr := range resp.Msg.Answer {
		a.Answers = append(a.Answers, TypeString(rr.Header().Rrtype)+" "+RData(rr))
		if ttl := rr.Header().Ttl; i == 0 || ttl < a.TTL {
			a.TTL = ttl
		}
	}
	slices.Sort(a.Answers)
	a.Answers = slices.Compact(a.Answers)
	return a
}

func (p *Propagation) summarise(q Query, results []ResolverAnswer) *PropagationResult {
	res := &PropagationResult{Name: q.Name, Type: TypeString(q.Type), Results: results,
		Groups: []AnswerGroup{}, Failing: []string{}, Missing: []string{}}
	index := map[string]int{}
	for i := range results {
		a := &results[i]
		if a.Error != "" || a.Rcode == "SERVFAIL" || a.Rcode == "REFUSED" {
			res.Failing = append(res.Failing, a.Resolver)
			continue
		}
		key := a.Rcode + "|" + strings.Join(a.Answers, "|")
		g, ok := index[key]
		if !ok {
			g = len(res.Groups)
			index[key] = g
			res.Groups = append(res.Groups, AnswerGroup{Rcode: a.Rcode, Answers: a.Answers})
		}
		a.Group = g
		res.Groups[g].Resolvers = append(res.Groups[g].Resolvers, a.Resolver)
		for _, want := range p.Expect {
			if !containsValue(a.Answers, want) {
				a.Missing = append(a.Missing, want)
				res.Missing = append(res.Missing, a.Resolver+": "+want)
			}
		}
	}
	// Largest group first, so the majority answer leads.
	order := make([]int, len(res.Groups))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return len(res.Groups[b].Resolvers) - len(res.Groups[a].Resolvers) })
	renumber := make([]int, len(order))
	sorted := make([]AnswerGroup, len(order))
	for newIdx, old := range order {
		renumber[old] = newIdx
		sorted[newIdx] = res.Groups[old]
	}
	res.Groups = sorted
	for i := range results {
		if results[i].Group >= 0 {
			results[i].Group = renumber[results[i].Group]
		}
	}
	res.Consistent = len(res.Groups) == 1 && len(res.Failing) == 0 && len(res.Missing) == 0
	res.Verdict = verdict(res)
	return res
}

func verdict(r *PropagationResult) string {
	switch {
	case len(r.Groups) == 0:
		return "failing"
	case len(r.Groups) > 1:
		return "inconsistent"
	case len(r.Failing) > 0:
		return "failing"
	case len(r.Missing) > 0:
		return "expected value missing"
	}
	return "consistent"
}

// containsValue reports whether an answer list ("TYPE data") holds want,
// compared with the data case-insensitively and with the trailing dot
// optional; "TYPE data" forms match exactly.
func containsValue(answers []string, want string) bool {
	norm := func(s string) string { return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".") }
	w := norm(want)
	for _, a := range answers {
		_, data, _ := strings.Cut(a, " ")
		if norm(data) == w || norm(a) == w {
			return true
		}
	}
	return false
}
