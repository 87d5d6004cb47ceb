package traceroute

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
)

// Tracer runs traces. It holds the sockets shared by every trace it runs
// (one raw ICMP listener per address family, one raw TCP listener) and
// matches each reply to its probe, so any number of traces may run at once.
// The zero value is ready to use; Close releases the sockets. Sockets are
// opened on first use in the network namespace of the calling thread.
type Tracer struct {
	// Unprivileged uses datagram sockets (ICMP "ping" sockets, UDP with the
	// error queue) even when raw sockets would be allowed.
	Unprivileged bool

	mu      sync.Mutex
	pending map[key]waiter
	icmp    [2]*sock // raw ICMP listeners, [0] IPv4, [1] IPv6
	tcp     [2]*sock // raw TCP listeners
	noRaw   [2]bool  // raw sockets were refused for the family
	nextID  uint16
	closed  bool
	wg      sync.WaitGroup
}

func fam(v6 bool) int {
	if v6 {
		return 1
	}
	return 0
}

// Close stops the listeners and closes the shared sockets. Traces running
// when Close is called stop getting answers.
func (t *Tracer) Close() error {
	t.mu.Lock()
	t.closed = true
	for i := range 2 {
		for _, s := range []*sock{t.icmp[i], t.tcp[i]} {
			if s != nil {
				s.close()
			}
		}
		t.icmp[i], t.tcp[i] = nil, nil
	}
	t.mu.Unlock()
	t.wg.Wait()
	return nil
}

// waiter is a registered probe: where its answer goes, and its destination
// (answers that name another destination are someone else's).
type waiter struct {
	ch  chan<- reply
	dst netip.Addr
}

// register makes replies for k, a probe sent to dst, go to ch.
func (t *Tracer) register(k key, dst netip.Addr, ch chan<- reply) {
	t.mu.Lock()
	if t.pending == nil {
		t.pending = map[key]waiter{}
	}
	t.pending[k] = waiter{ch: ch, dst: dst}
	t.mu.Unlock()
}

func (t *Tracer) unregister(k key) {
	t.mu.Lock()
	delete(t.pending, k)
	t.mu.Unlock()
}

// deliver hands r to the trace waiting for its key, once.
func (t *Tracer) deliver(r reply) {
	t.mu.Lock()
	w, ok := t.pending[r.key]
	if ok && !belongs(r, w.dst) {
		ok = false
	}
	if ok {
		delete(t.pending, r.key)
	}
	t.mu.Unlock()
	if ok {
		select {
		case w.ch <- r:
		default: // the channel holds one slot per probe; never full
		}
	}
}

// belongs reports whether an answer can be for a probe sent to dst: errors
// must quote dst, echo replies and TCP answers must come from it.
func belongs(r reply, dst netip.Addr) bool {
	switch r.kind {
	case kindEchoReply, kindTCP:
		return r.from == dst
	}
	return !r.dst.IsValid() || r.dst == dst
}

// allocID returns an ICMP identifier no running trace of this Tracer uses
// for the family.
func (t *Tracer) allocID(v6 bool) uint16 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.nextID == 0 {
		t.nextID = uint16(rand.Uint32())
	}
	t.nextID++
	if t.nextID == 0 {
		t.nextID = 1
	}
	return t.nextID
}

// rawICMP returns the shared raw ICMP socket for the family, opening it and
// starting its listener on first use. It returns (nil, nil) when raw
// sockets are not allowed (or not wanted) and the caller should fall back
// to datagram sockets.
func (t *Tracer) rawICMP(v6 bool) (*sock, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := fam(v6)
	if t.icmp[f] == nil && !t.closed && (t.Unprivileged || t.noRaw[f]) {
		return nil, nil
	}
	s, err := t.shared(&t.icmp[f], v6, "ICMP", openRawICMP, parseICMP, false)
	if isPermission(err) {
		t.noRaw[f] = true
		return nil, nil
	}
	return s, err
}

// rawTCP returns the shared raw TCP socket for the family.
func (t *Tracer) rawTCP(v6 bool) (*sock, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.shared(&t.tcp[fam(v6)], v6, "TCP", openRawTCP, parseTCP, true)
}

// shared returns the listener in slot, opening it with open and starting
// its listen loop on first use. t.mu is held.
func (t *Tracer) shared(slot **sock, v6 bool, what string, open func(bool) (*sock, error),
	parse func(bool, []byte) (reply, bool), headerTTL bool) (*sock, error) {
	if t.closed {
		return nil, errors.New("tracer is closed")
	}
	if *slot != nil {
		return *slot, nil
	}
	s, err := open(v6)
	if err != nil {
		return nil, fmt.Errorf("opening raw %s socket: %w", what, err)
	}
	s.bigBuffer()
	*slot = s
	t.wg.Add(1)
	go t.listen(s, parse, headerTTL)
	return s, nil
}

// listen reads a shared raw listener (ICMP, or TCP for SYN probes) and
// delivers every reply parse recognises. On IPv4 the IP header is stripped
// and gives the reply's TTL: always for TCP (headerTTL), and for ICMP when
// no control message carried it.
func (t *Tracer) listen(s *sock, parse func(v6 bool, b []byte) (reply, bool), headerTTL bool) {
	defer t.wg.Done()
	buf, oob := make([]byte, 65536), make([]byte, 512)
	for {
		p, err := s.recv(buf, oob)
		if err != nil {
			if isClosed(err) {
				return
			}
			continue
		}
		data := p.data
		if !s.v6 {
			var ttl int
			if data, _, ttl, err = stripIPv4(data); err != nil {
				continue
			}
			if headerTTL || p.ttl == 0 {
				p.ttl = ttl
			}
		}
		r, ok := parse(s.v6, data)
		if !ok {
			continue
		}
		r.from, r.ttl, r.at = p.from, p.ttl, p.arrived
		t.deliver(r)
	}
}

// listenFlow reads a flow's own datagram socket (unprivileged mode): echo
// replies, and ICMP errors from its error queue.
func (t *Tracer) listenFlow(s *sock, proto Protocol, id uint16, done func()) {
	defer done()
	buf, oob := make([]byte, 65536), make([]byte, 512)
	for {
		p, err := s.recv(buf, oob)
		if err != nil {
			if isClosed(err) {
				return
			}
			continue
		}
		r, ok := flowReply(s.v6, proto, id, p)
		if ok {
			t.deliver(r)
		}
	}
}

// flowReply turns what a flow socket read into a reply.
func flowReply(v6 bool, proto Protocol, id uint16, p packet) (reply, bool) {
	r := reply{from: p.from, ttl: p.ttl, at: p.arrived}
	if !p.errq {
		if proto != ICMP {
			return r, false
		}
		q, ok := parseICMP(v6, p.data)
		if !ok || q.kind != kindEchoReply {
			return r, false
		}
		q.from, q.ttl, q.at = r.from, r.ttl, r.at
		return q, true
	}
	r.icmpType, r.icmpCode = p.eeType, p.eeCode
	r.kind = errKind(v6, p.eeType)
	if len(p.data) < 4 && proto == UDP || len(p.data) < 8 && proto == ICMP {
		return r, false
	}
	switch proto {
	case ICMP:
		r.key = key{v6: v6, proto: ICMP, id: id, seq: uint32(uint16(p.data[6])<<8 | uint16(p.data[7]))}
	case UDP:
		r.key = key{v6: v6, proto: UDP, id: id, seq: uint32(uint16(p.data[0])<<8 | uint16(p.data[1]))}
	default:
		return r, false
	}
	return r, true
}

func errKind(v6 bool, typ int) kind {
	switch {
	case !v6 && typ == 11, v6 && typ == 3:
		return kindTimeExceeded
	case !v6 && typ == 3, v6 && typ == 1:
		return kindUnreachable
	}
	return kindOther
}

func isClosed(err error) bool {
	return errors.Is(err, errClosed)
}
