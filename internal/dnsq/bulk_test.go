package dnsq_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

// bulk runs dnsq.Bulk and returns its results by input line.
func bulk(t *testing.T, req dnsq.BulkRequest) (map[int]dnsq.BulkResult, dnsq.BulkSummary) {
	t.Helper()
	got := map[int]dnsq.BulkResult{}
	sum, err := dnsq.Bulk(context.Background(), req, func(r dnsq.BulkResult) error {
		if _, dup := got[r.Line]; dup {
			t.Errorf("line %d: second result %+v", r.Line, r)
		}
		got[r.Line] = r
		return nil
	})
	if err != nil {
		t.Fatalf("Bulk: %v", err)
	}
	return got, sum
}

func servers(t testing.TB, addrs ...string) []dnsq.Server {
	t.Helper()
	var out []dnsq.Server
	for _, a := range addrs {
		s, err := dnsq.ParseServer(a)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestBulkAnswersEachLine(t *testing.T) {
	zone := exampleZone + "mail IN MX 10 www\n"
	s := dnstest.Start(t, dnstest.NewZone(t, "example.test.", zone))
	input := strings.Join([]string{
		"# a comment",
		"www.example.test",             // 2: A
		"",                             // blank
		"mail.example.test MX",         // 4: per-line type
		"nope.example.test",            // 5: NXDOMAIN
		"  alias.example.test  aaaa  ", // 6: CNAME then AAAA, spaces
		strings.Repeat("a", 64) + ".example.test", // 7: label too long
		"www.example.test BOGUS",                  // 8: unknown type
		"www.example.test A extra",                // 9: too many fields
		"WWW.Example.Test.",                       // 10: case and final dot
	}, "\n") // no final newline
	got, sum := bulk(t, dnsq.BulkRequest{Input: strings.NewReader(input), Servers: servers(t, s.Addr)})

	want := map[int]struct{ name, typ, rcode, data, errPrefix string }{
		2:  {"www.example.test.", "A", "NOERROR", "192.0.2.10", ""},
		4:  {"mail.example.test.", "MX", "NOERROR", "10 www.example.test.", ""},
		5:  {"nope.example.test.", "A", "NXDOMAIN", "", ""},
		6:  {"alias.example.test.", "AAAA", "NOERROR", "2001:db8::10", ""},
		7:  {"", "", "", "", "invalid line: bad domain name: label"},
		8:  {"www.example.test", "", "", "", `invalid line: unknown type "BOGUS"`},
		9:  {"www.example.test", "", "", "", "invalid line: 3 fields"},
		10: {"WWW.Example.Test.", "A", "NOERROR", "192.0.2.10", ""},
	}
	if len(got) != len(want) {
		t.Errorf("got results for lines %v, want %d lines", keys(got), len(want))
	}
	for line, w := range want {
		r, ok := got[line]
		if !ok {
			t.Errorf("line %d: no result", line)
			continue
		}
		if w.errPrefix != "" {
			if !strings.HasPrefix(r.Error, w.errPrefix) || r.Rcode != "" || (w.name != "" && r.Name != w.name) {
				t.Errorf("line %d: got name %q error %q rcode %q, want name %q error starting %q", line, r.Name, r.Error, r.Rcode, w.name, w.errPrefix)
			}
			continue
		}
		last := ""
		if len(r.Answer) > 0 {
			last = r.Answer[len(r.Answer)-1].Data
		}
		if r.Name != w.name || r.Type != w.typ || r.Rcode != w.rcode || last != w.data || r.Error != "" {
			t.Errorf("line %d: got %s %s %s answer %q err %q, want %s %s %s answer %q", line, r.Name, r.Type, r.Rcode, last, r.Error, w.name, w.typ, w.rcode, w.data)
		}
		if r.Tries != 1 || r.RTTMs <= 0 || r.Transport != dnsq.UDP || r.Server != s.Addr {
			t.Errorf("line %d: tries %d rtt %v transport %q server %q; want 1 try, an RTT, udp, %s", line, r.Tries, r.RTTMs, r.Transport, r.Server, s.Addr)
		}
	}
	if sum.Names != 8 || sum.NoError.Count != 4 || sum.NXDomain.Count != 1 || sum.Invalid.Count != 3 || sum.Queries != 5 {
		t.Errorf("summary %+v: want 8 names, 4 NOERROR, 1 NXDOMAIN, 3 invalid, 5 queries", sum)
	}
	if sum.NoError.Share != 0.5 || sum.Rcodes["NXDOMAIN"] != 1 || sum.NamesPerSec <= 0 {
		t.Errorf("summary %+v: want NOERROR share 0.5, rcodes NXDOMAIN:1, a rate", sum)
	}
}

func keys(m map[int]dnsq.BulkResult) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestBulkDefaultTypeAndServfail(t *testing.T) {
	s := dnstest.Start(t, dnstest.Rcode(dns.RcodeServerFailure))
	got, sum := bulk(t, dnsq.BulkRequest{
		Input: strings.NewReader("a.test\nb.test TXT\n"), Type: dns.TypeNS, Servers: servers(t, s.Addr),
	})
	if got[1].Type != "NS" || got[2].Type != "TXT" {
		t.Errorf("types %q, %q: want NS (default), TXT (per line)", got[1].Type, got[2].Type)
	}
	if sum.ServFail.Count != 2 || sum.ServFail.Share != 1 || got[1].Rcode != "SERVFAIL" {
		t.Errorf("summary %+v, line 1 %+v: want 2 SERVFAIL", sum, got[1])
	}
}

func TestBulkTimeoutsAreRetried(t *testing.T) {
	silent := dnstest.Start(t, dnstest.Silent())
	c := &dnsq.Client{Timeout: 40 * time.Millisecond, Tries: 3}
	got, sum := bulk(t, dnsq.BulkRequest{
		Input: strings.NewReader("a.test\nb.test\nc.test\n"), Servers: servers(t, silent.Addr), Client: c,
	})
	for line, r := range got {
		if r.Error != "timeout" || r.Tries != 3 || r.Rcode != "" {
			t.Errorf("line %d: error %q tries %d rcode %q; want timeout after 3 tries", line, r.Error, r.Tries, r.Rcode)
		}
	}
	if sum.Timeout.Count != 3 || sum.Queries != 9 || sum.Timeout.Share != 1 {
		t.Errorf("summary %+v: want 3 timeouts, 9 queries", sum)
	}

	// A server that drops the first two queries answers the retries.
	z := dnstest.NewZone(t, "example.test.", exampleZone)
	lossy := dnstest.Start(t, dnstest.DropFirst(2, z))
	// A timeout generous enough that a loaded machine does not turn a late answer into a retry.
	c = &dnsq.Client{Timeout: 300 * time.Millisecond, Tries: 3}
	got, sum = bulk(t, dnsq.BulkRequest{
		Input: strings.NewReader("www.example.test\nwww.example.test AAAA\n"), Servers: servers(t, lossy.Addr), Client: c, Concurrency: 1,
	})
	if got[1].Tries != 3 || got[1].Rcode != "NOERROR" || got[2].Tries != 1 || got[2].Rcode != "NOERROR" {
		t.Errorf("got %+v and %+v; want NOERROR after 3 tries, then NOERROR at once", got[1], got[2])
	}
	if sum.Queries != 4 || sum.NoError.Count != 2 {
		t.Errorf("summary %+v: want 4 queries, 2 NOERROR", sum)
	}
}

func TestBulkTruncatedAnswersRetriedOverTCP(t *testing.T) {
	var b strings.Builder
	b.WriteString(exampleZone)
	for i := range 40 {
		fmt.Fprintf(&b, "big IN TXT \"record number %02d padded to make the answer larger than any udp buffer\"\n", i)
	}
	s := dnstest.Start(t, dnstest.NewZone(t, "example.test.", b.String()))
	got, sum := bulk(t, dnsq.BulkRequest{
		Input:   strings.NewReader("big.example.test TXT\nwww.example.test\n"),
		Servers: servers(t, s.Addr), Query: dnsq.Query{UDPSize: 512},
	})
	if r := got[1]; r.Transport != dnsq.TCP || len(r.Answer) != 40 || r.Tries != 2 || r.Server != s.Addr {
		t.Errorf("big: transport %q, %d answers, %d tries, server %q; want tcp, 40, 2 (udp then tcp), %s", r.Transport, len(r.Answer), r.Tries, r.Server, s.Addr)
	}
	if r := got[2]; r.Transport != dnsq.UDP || len(r.Answer) != 1 {
		t.Errorf("www: transport %q, %d answers; want udp, 1", r.Transport, len(r.Answer))
	}
	if sum.Queries != 3 {
		t.Errorf("got %d queries, want 3", sum.Queries)
	}
}

func TestBulkSpreadsOverServers(t *testing.T) {
	z1 := dnstest.NewZone(t, "example.test.", exampleZone)
	z2 := dnstest.NewZone(t, "example.test.", exampleZone)
	s1, s2 := dnstest.Start(t, z1), dnstest.StartOn(t, "127.0.0.2", z2)
	var in strings.Builder
	for range 200 {
		in.WriteString("www.example.test\n")
	}
	got, sum := bulk(t, dnsq.BulkRequest{Input: strings.NewReader(in.String()), Servers: servers(t, s1.Addr, s2.Addr), Concurrency: 20})
	if sum.NoError.Count != 200 || len(got) != 200 {
		t.Fatalf("summary %+v: want 200 NOERROR", sum)
	}
	if z1.Queries() == 0 || z2.Queries() == 0 || z1.Queries()+z2.Queries() != 200 {
		t.Errorf("servers got %d and %d queries; want both some, 200 in all", z1.Queries(), z2.Queries())
	}
	seen := map[string]int{}
	for _, r := range got {
		seen[r.Server]++
	}
	if int64(seen[s1.Addr]) != z1.Queries() || int64(seen[s2.Addr]) != z2.Queries() {
		t.Errorf("results name servers %v; want %s:%d %s:%d", seen, s1.Addr, z1.Queries(), s2.Addr, z2.Queries())
	}
}

// caseFlipper answers for any name with the question's letters upper-cased
// (as a server doing 0x20 randomisation might), except that names starting
// with "spoof" get a reply to another question.
func caseFlipper() dns.Handler {
	return dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		q := req.Question[0]
		if strings.HasPrefix(q.Name, "spoof") {
			m.Question[0].Name = "other.test."
		} else {
			m.Question[0].Name = strings.ToUpper(q.Name)
		}
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)})
		_ = w.WriteMsg(m)
	})
}

func TestBulkMatchesRepliesByQuestion(t *testing.T) {
	s := dnstest.Start(t, caseFlipper())
	c := &dnsq.Client{Timeout: 500 * time.Millisecond, Tries: 1}
	got, _ := bulk(t, dnsq.BulkRequest{Input: strings.NewReader("mixed.test\nspoof.test\n"), Servers: servers(t, s.Addr), Client: c})
	if got[1].Rcode != "NOERROR" || len(got[1].Answer) != 1 {
		t.Errorf("upper-cased question echo: got %+v, want the answer accepted", got[1])
	}
	if got[2].Error != "timeout" {
		t.Errorf("reply to another question: got %+v, want it ignored (timeout)", got[2])
	}
}

func TestBulkOverTCP(t *testing.T) {
	s := dnstest.Start(t, dnstest.NewZone(t, "example.test.", exampleZone))
	got, sum := bulk(t, dnsq.BulkRequest{
		Input: strings.NewReader("www.example.test\nnope.example.test\n"), Servers: servers(t, "tcp://"+s.Addr), Concurrency: 2,
	})
	if got[1].Transport != dnsq.TCP || got[1].Rcode != "NOERROR" || got[2].Rcode != "NXDOMAIN" || got[1].Tries != 1 {
		t.Errorf("got %+v and %+v; want NOERROR then NXDOMAIN over tcp", got[1], got[2])
	}
	if sum.Queries != 2 {
		t.Errorf("got %d queries, want 2", sum.Queries)
	}
}

func TestBulkRateLimit(t *testing.T) {
	s := dnstest.Start(t, dnstest.NewZone(t, "example.test.", exampleZone))
	start := time.Now()
	_, sum := bulk(t, dnsq.BulkRequest{
		Input: strings.NewReader(strings.Repeat("www.example.test\n", 21)), Servers: servers(t, s.Addr), Rate: 100,
	})
	// 21 queries at 100/s with a burst of 1 take at least 200 ms.
	if el := time.Since(start); el < 200*time.Millisecond || sum.NoError.Count != 21 {
		t.Errorf("21 names at 100/s took %v with %d answers; want at least 200ms, 21 answers", el, sum.NoError.Count)
	}
}

func TestBulkStopsOnCancelAndEmitError(t *testing.T) {
	s := dnstest.Start(t, dnstest.Silent())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req := dnsq.BulkRequest{Input: strings.NewReader("a.test\n"), Servers: servers(t, s.Addr), Client: &dnsq.Client{Timeout: time.Hour}}
	_, err := dnsq.Bulk(ctx, req, func(dnsq.BulkResult) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}

	// An input that never delivers (a terminal nobody types in) does not
	// hold Bulk past ctx.
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	req.Input = pr
	if _, err := dnsq.Bulk(ctx2, req, func(dnsq.BulkResult) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("blocked input: got %v, want context.DeadlineExceeded", err)
	}

	z := dnstest.Start(t, dnstest.NewZone(t, "example.test.", exampleZone))
	boom := errors.New("disk full")
	calls := 0
	req = dnsq.BulkRequest{Input: strings.NewReader(strings.Repeat("www.example.test\n", 50)), Servers: servers(t, z.Addr)}
	sum, err := dnsq.Bulk(context.Background(), req, func(dnsq.BulkResult) error { calls++; return boom })
	if !errors.Is(err, boom) || calls != 1 || sum.Names != 1 {
		t.Errorf("got err %v after %d calls (summary %d names); want the emit error after 1", err, calls, sum.Names)
	}
}

func TestBulkRejectsBadRequests(t *testing.T) {
	srv := servers(t, "127.0.0.1:53")
	for _, tc := range []struct {
		req  dnsq.BulkRequest
		want string
	}{
		{dnsq.BulkRequest{Servers: srv}, "no input"},
		{dnsq.BulkRequest{Input: strings.NewReader("")}, "no server"},
		{dnsq.BulkRequest{Input: strings.NewReader(""), Servers: srv, Concurrency: -1}, "concurrency -1"},
		{dnsq.BulkRequest{Input: strings.NewReader(""), Servers: srv, Rate: -2}, "rate -2"},
	} {
		_, err := dnsq.Bulk(context.Background(), tc.req, func(dnsq.BulkResult) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want an error containing %q", err, tc.want)
		}
	}
}

// nameGen produces "hN.example.test" lines on demand, so a large input is
// never held in memory; produced counts the lines handed out.
type nameGen struct {
	n, next  int
	produced atomic.Int64
	pending  []byte
}

func (g *nameGen) Read(p []byte) (int, error) {
	for len(g.pending) < len(p) && g.next < g.n {
		g.pending = fmt.Appendf(g.pending, "h%d.example.test\n", g.next)
		g.next++
		g.produced.Store(int64(g.next))
	}
	if len(g.pending) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.pending)
	g.pending = g.pending[n:]
	return n, nil
}

// anyA answers every name with an A record.
func anyA() dns.Handler {
	return dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: req.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 7)})
		_ = w.WriteMsg(m)
	})
}

func TestBulkLargeInputOneResultPerName(t *testing.T) {
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	s := dnstest.Start(t, anyA())
	gen := &nameGen{n: n}
	seen := make([]bool, n+1)
	var firstSeen int64
	sum, err := dnsq.Bulk(context.Background(), dnsq.BulkRequest{
		Input: gen, Servers: servers(t, s.Addr), Concurrency: 200,
		// A lost datagram under load is retried, not fatal.
		Client: &dnsq.Client{Timeout: 2 * time.Second, Tries: 5},
	}, func(r dnsq.BulkResult) error {
		if firstSeen == 0 {
			firstSeen = gen.produced.Load()
		}
		if r.Line < 1 || r.Line > n || seen[r.Line] {
			return fmt.Errorf("line %d: out of range or seen twice", r.Line)
		}
		seen[r.Line] = true
		if want := fmt.Sprintf("h%d.example.test.", r.Line-1); r.Name != want || r.Rcode != "NOERROR" {
			return fmt.Errorf("line %d: got %s %s %s, want %s NOERROR", r.Line, r.Name, r.Rcode, r.Error, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d names in %.0f ms, %d queries", sum.Names, sum.ElapsedMs, sum.Queries)
	if sum.Names != n || sum.NoError.Count != n {
		t.Errorf("summary %+v: want %d names, all NOERROR", sum, n)
	}
	// Input is read lazily: when the first result arrived, the reader was at
	// most a buffer (64 KiB, about 3,500 lines) plus the names in flight ahead.
	if firstSeen > 10_000 {
		t.Errorf("%d lines read before the first result; want the input read lazily", firstSeen)
	}
}

func TestBulkRefusedPortAndIPv6(t *testing.T) {
	// A port nothing listens on: ICMP errors, then timeouts, never a hang.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := pc.LocalAddr().String()
	pc.Close()
	c := &dnsq.Client{Timeout: 30 * time.Millisecond, Tries: 2}
	got, sum := bulk(t, dnsq.BulkRequest{Input: strings.NewReader("a.test\nb.test\n"), Servers: servers(t, closed), Client: c})
	if sum.Timeout.Count != 2 || got[1].Tries != 2 {
		t.Errorf("summary %+v, line 1 %+v: want 2 timeouts after 2 tries", sum, got[1])
	}

	l, err := net.ListenPacket("udp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here (%v); the IPv6 socket path is untested", err)
	}
	l.Close()
	s := dnstest.StartOn(t, "::1", dnstest.NewZone(t, "example.test.", exampleZone))
	got, _ = bulk(t, dnsq.BulkRequest{Input: strings.NewReader("www.example.test AAAA\n"), Servers: servers(t, s.Addr)})
	if got[1].Rcode != "NOERROR" || len(got[1].Answer) != 1 || got[1].Server != s.Addr {
		t.Errorf("over ::1: got %+v, want one AAAA from %s", got[1], s.Addr)
	}
}

func TestBulkLeavesNoGoroutines(t *testing.T) {
	s := dnstest.Start(t, dnstest.NewZone(t, "example.test.", exampleZone))
	srv := servers(t, s.Addr, "tcp://"+s.Addr)
	before := runtime.NumGoroutine()
	for _, sv := range [][]dnsq.Server{srv[:1], srv[1:]} {
		_, sum := bulk(t, dnsq.BulkRequest{Input: strings.NewReader(strings.Repeat("www.example.test\n", 30)), Servers: sv, Concurrency: 10})
		if sum.NoError.Count != 30 {
			t.Fatalf("summary %+v: want 30 NOERROR", sum)
		}
	}
	// Goroutines end on their own shortly after Bulk returns (context.AfterFunc closers, server handlers).
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after the runs, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// wrappingDialer dials through net.Dialer but hides the *net.UDPConn behind
// another type (as a policy dialer might), or refuses everything.
type wrappingDialer struct {
	refuse bool
	dials  atomic.Int64
}

type wrappedConn struct{ net.Conn }

func (d *wrappingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.dials.Add(1)
	if d.refuse {
		return nil, fmt.Errorf("%s is not allowed", addr)
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return wrappedConn{c}, nil
}

func TestBulkUsesTheClientsDialer(t *testing.T) {
	s := dnstest.Start(t, dnstest.NewZone(t, "example.test.", exampleZone))
	d := &wrappingDialer{}
	got, sum := bulk(t, dnsq.BulkRequest{
		Input:   strings.NewReader(strings.Repeat("www.example.test\n", 20) + "nope.example.test\n"),
		Servers: servers(t, s.Addr), Client: &dnsq.Client{Dialer: d},
	})
	if sum.NoError.Count != 20 || sum.NXDomain.Count != 1 || got[21].Rcode != "NXDOMAIN" {
		t.Errorf("summary %+v: want 20 NOERROR and 1 NXDOMAIN through the wrapped sockets", sum)
	}
	if d.dials.Load() == 0 {
		t.Error("the client's dialer was not used")
	}
	d.refuse = true
	_, err := dnsq.Bulk(context.Background(), dnsq.BulkRequest{
		Input: strings.NewReader("www.example.test\n"), Servers: servers(t, s.Addr), Client: &dnsq.Client{Dialer: d},
	}, func(dnsq.BulkResult) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "is not allowed") {
		t.Errorf("refusing dialer: got %v, want its error", err)
	}
}

func TestBulkEdgeInputs(t *testing.T) {
	s := dnstest.Start(t, dnstest.NewZone(t, "example.test.", exampleZone))
	s2 := dnstest.StartOn(t, "127.0.0.3", dnstest.NewZone(t, "example.test.", exampleZone))
	got, sum := bulk(t, dnsq.BulkRequest{Input: strings.NewReader("# only a comment\n\n"), Servers: servers(t, s.Addr)})
	if len(got) != 0 || sum.Names != 0 || sum.Queries != 0 {
		t.Errorf("no names: got %d results, summary %+v; want none", len(got), sum)
	}
	// One name in flight at a time over two servers (four sockets).
	got, sum = bulk(t, dnsq.BulkRequest{
		Input:   strings.NewReader(strings.Repeat("www.example.test\n", 30)),
		Servers: servers(t, s.Addr, s2.Addr), Concurrency: 1, Sockets: 2,
	})
	if len(got) != 30 || sum.NoError.Count != 30 {
		t.Errorf("concurrency 1: %d results, summary %+v; want 30 NOERROR", len(got), sum)
	}
}
