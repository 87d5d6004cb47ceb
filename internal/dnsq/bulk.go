package dnsq

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// ErrNoServers is returned by Bulk when the request names no server.
var ErrNoServers = errors.New("no server to ask")

// MaxBulkConcurrency caps BulkRequest.Concurrency: message ids are 16 bits
// and each UDP socket must find a free one quickly.
const MaxBulkConcurrency = 20000

// BulkRequest describes a bulk lookup: many names read from Input, each
// asked of one of Servers, with bounded concurrency.
type BulkRequest struct {
	// Input holds the names, one per line: "name" or "name TYPE" (the
	// format dnsperf reads). Blank lines and lines starting with # are
	// skipped. It is read lazily, as slots free up. Required.
	Input io.Reader
	// Type is the RR type for lines that name none; 0 means A.
	Type uint16
	// Servers are the servers to ask; each name goes to one of them, and a
	// retry after a timeout goes out on whichever socket is free (another
	// server, usually, when there are several). Required.
	Servers []Server
	// Query is the template of every query (header flags, EDNS options);
	// its Name and Type are replaced per line.
	Query Query
	// Client sets the timeout per try, the number of tries, whether
	// truncated answers are retried over TCP, and the dialer; it also sends
	// the queries to TCP, TLS and HTTPS servers. nil means a zero Client
	// (5 s per try, 3 tries, TCP retry on truncation).
	Client *Client
	// Concurrency bounds the names in flight; 0 means 100. Values above
	// MaxBulkConcurrency are capped.
	Concurrency int
	// Rate caps the queries sent per second, retries included; 0 means no
	// cap. Bursts of up to 10 ms worth of queries are allowed.
	Rate float64
	// Sockets is the number of UDP sockets per server; 0 means 2 for a
	// single server and 1 each for several.
	Sockets int
}

// BulkResult is the outcome for one input line: the reply's rcode and
// answer, or why there is none. Its JSON form is one line of `dnsscience dig
// -f` output (docs/JSON.md, "Bulk").
type BulkResult struct {
	Line      int       `json:"line"`                // line number in the input, from 1
	Name      string    `json:"name"`                // the name asked (fully qualified), or the bad line's first field
	Type      string    `json:"type"`                // the type asked
	Server    string    `json:"server,omitempty"`    // the server that answered, or was last asked
	Transport Transport `json:"transport,omitempty"` // udp, or tcp after a truncated answer
	Rcode     string    `json:"rcode,omitempty"`     // NOERROR, NXDOMAIN ...; empty when there was no reply
	Answer    []Record  `json:"answer"`              // the answer section; empty when there is none
	RTTMs     float64   `json:"rtt_ms"`              // round-trip time of the try that answered
	Tries     int       `json:"tries"`               // queries sent for this name (a TCP retry counts)
	Error     string    `json:"error,omitempty"`     // "timeout", "invalid line: ...", or another failure

	kind resultKind
}

type resultKind uint8

const (
	kindAnswered resultKind = iota
	kindTimeout
	kindInvalid
	kindError
)

// Share is a count and its share of all names (0 to 1).
type Share struct {
	Count int     `json:"count"`
	Share float64 `json:"share"`
}

// BulkSummary sums up a bulk run.
type BulkSummary struct {
	Names       int            `json:"names"`         // results, one per input line (bad lines included)
	Queries     int64          `json:"queries"`       // queries sent, retries and TCP retries included
	ElapsedMs   float64        `json:"elapsed_ms"`    // wall time of the run
	NamesPerSec float64        `json:"names_per_sec"` // Names / elapsed
	NoError     Share          `json:"noerror"`
	NXDomain    Share          `json:"nxdomain"`
	ServFail    Share          `json:"servfail"`
	OtherRcode  Share          `json:"other_rcode"` // REFUSED, FORMERR, NOTIMP ...
	Timeout     Share          `json:"timeout"`     // no reply after every try
	Invalid     Share          `json:"invalid"`     // lines that are not "name [TYPE]"
	Error       Share          `json:"error"`       // other failures (TCP retry failed, network errors)
	Rcodes      map[string]int `json:"rcodes"`      // every rcode seen, with its count
}

// Add counts one result.
func (s *BulkSummary) Add(r BulkResult) {
	s.Names++
	switch r.kind {
	case kindTimeout:
		s.Timeout.Count++
		return
	case kindInvalid:
		s.Invalid.Count++
		return
	case kindError:
		s.Error.Count++
		return
	}
	if s.Rcodes == nil {
		s.Rcodes = map[string]int{}
	}
	s.Rcodes[r.Rcode]++
	switch r.Rcode {
	case "NOERROR":
		s.NoError.Count++
	case "NXDOMAIN":
		s.NXDomain.Count++
	case "SERVFAIL":
		s.ServFail.Count++
	default:
		s.OtherRcode.Count++
	}
}

func (s *BulkSummary) finish(elapsed time.Duration, queries int64) {
	s.Queries = queries
	s.ElapsedMs = Millis(elapsed)
	if elapsed > 0 {
		s.NamesPerSec = float64(s.Names) / elapsed.Seconds()
	}
	for _, sh := range []*Share{&s.NoError, &s.NXDomain, &s.ServFail, &s.OtherRcode, &s.Timeout, &s.Invalid, &s.Error} {
		if s.Names > 0 {
			sh.Share = float64(sh.Count) / float64(s.Names)
		}
	}
	if s.Rcodes == nil {
		s.Rcodes = map[string]int{}
	}
}

// bulkJob is one valid input line on its way through the engine.
type bulkJob struct {
	line  int
	name  string
	qtype uint16
	tries int // queries sent so far
}

// startExchangeWorkers runs Concurrency workers that send each name through
// the Client (TCP, TLS, HTTPS servers; a fresh connection per query except
// for HTTPS, whose connections are reused).
func (r *bulkRun) startExchangeWorkers(ctx context.Context) {
	c := *r.client
	if c.HTTPClient == nil {
		c.HTTPClient = r.client.httpClient(r.req.Servers...)
	}
	var next atomic.Uint64
	for range r.conc {
		r.wg.Go(func() {
			for {
				var js []*bulkJob
				var ok bool
				select {
				case js, ok = <-r.lines:
					if !ok {
						return
					}
				case <-ctx.Done():
					return
				}
				for _, j := range js { // one name per batch on this path
					if r.wait(ctx) != nil {
						return
					}
					srv := r.req.Servers[next.Add(1)%uint64(len(r.req.Servers))]
					r.finish(false, r.exchange(ctx, &c, srv, j))
				}
			}
		})
	}
}

// exchange asks srv about j through c.
func (r *bulkRun) exchange(ctx context.Context, c *Client, srv Server, j *bulkJob) BulkResult {
	q := r.req.Query
	q.Name, q.Type = j.name, j.qtype
	resp, err := c.Exchange(ctx, srv, q)
	if err != nil {
		n := 1 // other errors end the exchange at once
		if errors.Is(err, ErrNoAnswer) {
			n = c.tries()
		}
		r.queries.Add(int64(n))
		j.tries += n
		return failed(j, srv, err)
	}
	r.queries.Add(int64(resp.Tries))
	j.tries += resp.Tries
	return answered(j, srv, resp.Transport, resp.Msg, resp.RTT)
}

// answered is the result for a reply.
func answered(j *bulkJob, srv Server, t Transport, m *dns.Msg, rtt time.Duration) BulkResult {
	return BulkResult{
		Line: j.line, Name: j.name, Type: TypeString(j.qtype), Server: srv.String(), Transport: t,
		Rcode: RcodeString(m.Rcode), Answer: bulkRecords(m.Answer), RTTMs: Millis(rtt), Tries: j.tries,
	}
}

// failed is the result for a name that got no usable reply.
func failed(j *bulkJob, srv Server, err error) BulkResult {
	res := BulkResult{
		Line: j.line, Name: j.name, Type: TypeString(j.qtype), Server: srv.String(),
		Answer: []Record{}, Tries: j.tries, Error: err.Error(), kind: kindError,
	}
	if errors.Is(err, ErrNoAnswer) || isTimeout(err) {
		res.Error, res.kind = "timeout", kindTimeout
	}
	return res
}
