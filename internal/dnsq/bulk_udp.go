package dnsq

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// The fast UDP path: a few long-lived sockets per server, each with many
// queries outstanding, matched to their replies by id and question. Each
// socket has a sender (takes names, sends), a receiver (matches replies,
// builds results) and a reaper (retries or fails queries past the timeout).

// udpLane is one socket to one server and the queries outstanding on it.
type udpLane struct {
	run    *bulkRun
	srv    Server
	conn   net.Conn
	bc     batchConn // conn's sendmmsg/recvmmsg, when it is a UDP socket
	stamps bool      // the kernel stamps each reply with its arrival time
	tmpl   wireTemplate

	recvSize, recvBatch int // receive buffer size, datagrams per read

	limit  int           // this socket's share of the names in flight
	kick   chan struct{} // wakes the sender to pump
	pumpMu sync.Mutex    // one pump at a time (it owns msgs)
	msgs   []ipv4.Message

	mu         sync.Mutex
	byID       map[uint16]*flight
	head, tail *flight // outstanding queries, oldest first (so by deadline)
}

// recvBufferBudget bounds the receive buffers of all sockets of a run.
const recvBufferBudget = 8 << 20

// batchConn reads and writes several datagrams per system call
// (recvmmsg/sendmmsg on Linux, one at a time elsewhere).
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// flight is one query on the wire.
type flight struct {
	job        *bulkJob
	id         uint16
	wire       []byte
	qend       int // end of the question section in wire
	sent       time.Time
	prev, next *flight
}

func (r *bulkRun) startUDP(ctx context.Context) error {
	tmpl, err := newWireTemplate(r.req.Query)
	if err != nil {
		return fmt.Errorf("bulk lookup: %w", err)
	}
	per := r.req.Sockets
	if per <= 0 {
		per = 1
		if len(r.req.Servers) == 1 {
			per = 2
		}
	}
	var lanes []*udpLane
	for _, srv := range r.req.Servers {
		for range per {
			conn, err := r.client.dialer().DialContext(ctx, "udp", srv.Addr)
			if err != nil {
				for _, l := range lanes {
					l.conn.Close()
				}
				return fmt.Errorf("bulk lookup: opening a socket to %s: %w", srv, err)
			}
			lanes = append(lanes, newLane(r, srv, conn, tmpl))
		}
	}
	// Receive buffers: a batch of datagrams per socket, within about 8 MB
	// in all however many servers there are.
	size := max(4096, int(tmpl.udpSize))
	batch := min(maxBatch, max(1, recvBufferBudget/(size*len(lanes))))
	// Each socket gets an equal share of the names in flight, so that every
	// server gets its part of the load.
	limit := max(1, r.conc/len(lanes))
	for _, l := range lanes {
		l.recvSize, l.recvBatch, l.limit = size, batch, limit
		r.kicks = append(r.kicks, l.kick)
	}
	context.AfterFunc(ctx, func() {
		for _, l := range lanes {
			l.conn.Close()
		}
	})
	for _, l := range lanes {
		r.wg.Go(func() { l.sendLoop(ctx) })
		r.wg.Go(func() { l.receiveLoop(ctx) })
		r.wg.Go(func() { l.reapLoop(ctx) })
	}
	return nil
}

func newLane(r *bulkRun, srv Server, conn net.Conn, tmpl wireTemplate) *udpLane {
	l := &udpLane{
		run: r, srv: srv, conn: conn, tmpl: tmpl, byID: map[uint16]*flight{},
		kick: make(chan struct{}, 1), msgs: make([]ipv4.Message, 0, maxBatch),
	}
	if uc, ok := conn.(*net.UDPConn); ok {
		// Room for bursts of replies (the kernel caps it at rmem_max).
		_ = uc.SetReadBuffer(4 << 20)
		l.stamps = enableRxStamps(uc)
		if ap, err := netip.ParseAddrPort(conn.RemoteAddr().String()); err == nil && ap.Addr().Unmap().Is4() {
			l.bc = ipv4.NewPacketConn(uc)
		} else {
			l.bc = ipv6.NewPacketConn(uc)
		}
	}
	return l
}

// sendLoop starts the flow and pumps again whenever kicked: when input
// arrives after running dry, when names are queued for retry, when a TCP
// retry or the reaper frees room, and, under a rate limit, after each batch
// of replies.
func (l *udpLane) sendLoop(ctx context.Context) {
	l.pump(ctx)
	for {
		select {
		case <-l.kick:
			l.pump(ctx)
		case <-ctx.Done():
			return
		}
	}
}

// pump sends names (retries first) while there is room and input.
func (l *udpLane) pump(ctx context.Context) {
	l.pumpMu.Lock()
	defer l.pumpMu.Unlock()
	for ctx.Err() == nil {
		l.mu.Lock()
		want := min(maxBatch, l.limit-len(l.byID))
		l.mu.Unlock()
		if want <= 0 {
			return // the receiver pumps again as replies come in
		}
		js := l.run.takeJobs(want)
		if len(js) == 0 {
			return
		}
		if l.run.limiter == nil {
			l.write(js)
			continue
		}
		for i := range js { // one at a time, each when the limit allows
			if l.run.wait(ctx) != nil {
				return
			}
			l.write(js[i : i+1])
		}
	}
}

// write registers flights for js and sends them. A failed write (say a
// pending ICMP error) is a lost query: the reaper retries it.
func (l *udpLane) write(js []*bulkJob) {
	fs, bad := l.launch(js)
	l.run.finish(true, bad...)
	if l.bc == nil {
		for _, f := range fs {
			_, _ = l.conn.Write(f.wire)
		}
		return
	}
	for len(fs) > 0 {
		msgs := l.msgs[:0]
		for _, f := range fs[:min(len(fs), maxBatch)] {
			msgs = append(msgs, ipv4.Message{Buffers: [][]byte{f.wire}})
		}
		n, err := l.bc.WriteBatch(msgs, 0)
		if err != nil || n == 0 {
			n = 1 // skip the datagram that failed
		}
		fs = fs[n:]
	}
}

// launch registers a flight for each job under a fresh random id. Names
// that cannot be encoded (NormalizeName let them through) come back as
// results.
func (l *udpLane) launch(js []*bulkJob) ([]*flight, []BulkResult) {
	fs := make([]*flight, 0, len(js))
	var bad []BulkResult
	for _, j := range js {
		wire, qend, err := l.tmpl.build(nil, 0, j.name, j.qtype)
		if err != nil {
			bad = append(bad, failed(j, l.srv, err))
			continue
		}
		j.tries++
		fs = append(fs, &flight{job: j, wire: wire, qend: qend})
	}
	l.run.queries.Add(int64(len(fs)))
	now := time.Now()
	l.mu.Lock()
	for _, f := range fs {
		for {
			f.id = uint16(rand.Uint32())
			if _, busy := l.byID[f.id]; !busy {
				break
			}
		}
		binary.BigEndian.PutUint16(f.wire, f.id)
		f.sent = now
		l.byID[f.id] = f
		l.push(f)
	}
	l.mu.Unlock()
	return fs, bad
}

func (l *udpLane) push(f *flight) {
	f.prev, f.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = f
	} else {
		l.head = f
	}
	l.tail = f
}

func (l *udpLane) unlink(f *flight) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		l.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		l.tail = f.prev
	}
	f.prev, f.next = nil, nil
	delete(l.byID, f.id)
}

// receiveLoop reads replies until the socket is closed.
func (l *udpLane) receiveLoop(ctx context.Context) {
	msgs := make([]ipv4.Message, l.recvBatch)
	if l.bc == nil {
		msgs = msgs[:1]
	}
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, l.recvSize)}
		if l.stamps && l.bc != nil {
			msgs[i].OOB = make([]byte, rxStampSpace)
		}
	}
	var out []BulkResult
	for {
		n, err := l.readBatch(msgs)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Connection refused (an ICMP error for an earlier query) is
			// reported once; the reaper retries or fails the queries. Pause
			// on anything else so a lasting error cannot spin.
			if !errors.Is(err, syscall.ECONNREFUSED) {
				time.Sleep(10 * time.Millisecond)
			}
			continue
		}
		now := time.Now()
		out = out[:0]
		for _, m := range msgs[:n] {
			at, ok := rxStamp(m.OOB[:m.NN])
			if !ok || at.After(now) {
				at = now // no stamp (or a clock step): when it was read
			}
			if res, ok := l.handle(ctx, m.Buffers[0][:m.N], at); ok {
				out = append(out, res)
			}
		}
		l.run.finish(true, out...)
		// Refill at once, without waking another goroutine (under a rate
		// limit the sender waits for the limiter instead).
		if l.run.limiter == nil {
			l.pump(ctx)
		} else {
			kick(l.kick)
		}
	}
}

func (l *udpLane) readBatch(msgs []ipv4.Message) (int, error) {
	if l.bc != nil {
		return l.bc.ReadBatch(msgs, 0)
	}
	n, err := l.conn.Read(msgs[0].Buffers[0])
	msgs[0].N = n
	if err != nil {
		return 0, err
	}
	return 1, nil
}

// handle matches one datagram, which arrived at now, to its flight and
// returns its result; ok is false for strays, and for truncated answers,
// which are retried over TCP.
func (l *udpLane) handle(ctx context.Context, b []byte, now time.Time) (BulkResult, bool) {
	f := l.take(b)
	if f == nil {
		return BulkResult{}, false // late, duplicate or stray
	}
	if rcode, answer, ok := fastReply(b); ok {
		j := f.job
		return BulkResult{
			Line: j.line, Name: j.name, Type: TypeString(j.qtype), Server: l.srv.String(), Transport: UDP,
			Rcode: RcodeString(rcode), Answer: answer, RTTMs: Millis(now.Sub(f.sent)), Tries: j.tries,
		}, true
	}
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return failed(f.job, l.srv, fmt.Errorf("unpacking reply: %w", err)), true
	}
	if m.Truncated && !l.run.client.NoTCPFallback {
		l.run.wg.Go(func() { l.retryTCP(ctx, f.job) })
		return BulkResult{}, false
	}
	return answered(f.job, l.srv, UDP, m, now.Sub(f.sent)), true
}

// take removes and returns the flight that b answers, or nil.
func (l *udpLane) take(b []byte) *flight {
	if len(b) < 12 || b[2]&0x80 == 0 { // too short, or not a response
		return nil
	}
	id := binary.BigEndian.Uint16(b)
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.byID[id]
	if f == nil || !questionMatches(b, f.wire[:f.qend]) {
		return nil
	}
	l.unlink(f)
	return f
}

// questionMatches reports whether reply carries query's question (names
// compared case-insensitively); a reply without a question (FORMERR) matches
// on its id alone.
func questionMatches(reply, query []byte) bool {
	if binary.BigEndian.Uint16(reply[4:]) == 0 {
		return true
	}
	q := query[12:]
	if len(reply) < 12+len(q) {
		return false
	}
	r := reply[12 : 12+len(q)]
	for i, a := range q {
		// Length bytes are under 64, so folding ASCII letters cannot
		// confuse them with name bytes.
		if b := r[i]; a != b && lower(a) != lower(b) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// retryTCP asks again over TCP after a truncated UDP answer.
func (l *udpLane) retryTCP(ctx context.Context, j *bulkJob) {
	srv := Server{Transport: TCP, Addr: l.srv.Addr, Name: l.srv.Name}
	res := l.run.exchange(ctx, l.run.client, srv, j)
	res.Server = l.srv.String()
	l.run.finish(true, res)
	l.run.kickAll() // room freed outside any receiver
}

// reapLoop retries or fails queries that outlived the timeout.
func (l *udpLane) reapLoop(ctx context.Context) {
	every := min(max(l.run.timeout/8, 5*time.Millisecond), 100*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			var again []*bulkJob
			var out []BulkResult
			for _, f := range l.expired(now) {
				if f.job.tries < l.run.tries {
					again = append(again, f.job)
					continue
				}
				out = append(out, BulkResult{
					Line: f.job.line, Name: f.job.name, Type: TypeString(f.job.qtype), Server: l.srv.String(),
					Answer: []Record{}, Tries: f.job.tries, Error: "timeout", kind: kindTimeout,
				})
			}
			l.run.requeue(again)
			l.run.finish(true, out...)
			if len(again)+len(out) > 0 {
				l.run.kickAll()
			}
		}
	}
}

// expired removes and returns the flights sent more than a timeout ago.
func (l *udpLane) expired(now time.Time) []*flight {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*flight
	for f := l.head; f != nil && now.Sub(f.sent) >= l.run.timeout; f = l.head {
		l.unlink(f)
		out = append(out, f)
	}
	return out
}

// wireTemplate builds queries fast: the header and the sections after the
// question (the OPT record) are packed once; only the id and the question
// change per query.
type wireTemplate struct {
	head    []byte // 12-byte header
	class   uint16
	tail    []byte // everything after the question
	udpSize uint16 // the EDNS buffer size advertised, 0 without EDNS
}

func newWireTemplate(q Query) (wireTemplate, error) {
	q.Name, q.Type = ".", dns.TypeA
	m, err := q.Msg(0)
	if err != nil {
		return wireTemplate{}, err
	}
	wire, err := m.Pack()
	if err != nil {
		return wireTemplate{}, fmt.Errorf("packing the query template: %w", err)
	}
	// The root name is one zero byte, then type and class.
	t := wireTemplate{head: wire[:12], class: m.Question[0].Qclass, tail: wire[12+1+4:]}
	if opt := m.IsEdns0(); opt != nil {
		t.udpSize = opt.UDPSize()
	}
	return t, nil
}

// build returns the query for name and qtype with the given id, in dst when
// it is large enough, and where its question ends.
func (t wireTemplate) build(dst []byte, id uint16, name string, qtype uint16) ([]byte, int, error) {
	need := 12 + 256 + 4 + len(t.tail)
	if cap(dst) < need {
		dst = make([]byte, need)
	}
	dst = dst[:need]
	copy(dst, t.head)
	binary.BigEndian.PutUint16(dst, id)
	off, err := dns.PackDomainName(name, dst, 12, nil, false)
	if err != nil {
		return nil, 0, fmt.Errorf("packing %q: %w", name, err)
	}
	binary.BigEndian.PutUint16(dst[off:], qtype)
	binary.BigEndian.PutUint16(dst[off+2:], t.class)
	off += 4
	qend := off
	off += copy(dst[off:], t.tail)
	return dst[:off], qend, nil
}
