package dnsq

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/miekg/dns"
)

// ErrTransfer is wrapped when a zone transfer is refused or breaks off.
var ErrTransfer = errors.New("zone transfer failed")

// XFR is a zone transfer request: AXFR, or IXFR from the serial the asker
// holds (RFC 1995).
type XFR struct {
	// Query names the zone (Name) and class; its Type is AXFR or IXFR, and
	// its EDNS settings apply (dig sends EDNS with transfers too).
	Query  Query
	Serial uint32 // IXFR only: the serial the asker holds
}

// XFRResult sums a transfer up as dig's "XFR size" line does.
type XFRResult struct {
	Server   Server
	Remote   string        // address the transfer came from
	When     time.Time     // when the request was sent
	Duration time.Duration // from request to last message
	Records  int           // records, TSIG records not counted
	Messages int
	Bytes    int // message bytes, length prefixes not counted
}

// Transfer runs a zone transfer over TCP (or TLS when srv is DoT, RFC 9103)
// and hands every message to each as it arrives, so that a large zone is
// never held whole. It reads messages until the closing SOA, verifies TSIG
// on each one when the client has a key, and fails with ErrTransfer when the
// server refuses (the rcode) or the stream ends early. Client.Timeout bounds
// the wait for each message.
func (c *Client) Transfer(ctx context.Context, srv Server, x XFR, each func(*dns.Msg) error) (*XFRResult, error) {
	if srv.Transport == HTTPS {
		return nil, fmt.Errorf("%w: zone transfers go over TCP or TLS, not DoH", ErrTransfer)
	}
	t := TCP
	if srv.Transport == TLS {
		t = TLS
	}
	m, err := x.msg(uint16(rand.Uint32()))
	if err != nil {
		return nil, err
	}
	zone := m.Question[0].Name
	co, err := c.dial(ctx, srv, t)
	if err != nil {
		return nil, fmt.Errorf("transfer of %s from %s: %w", zone, srv, err)
	}
	defer co.Close()
	stop := context.AfterFunc(ctx, func() { _ = co.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	wire, mac, err := c.pack(m)
	if err != nil {
		return nil, err
	}
	res := &XFRResult{Server: srv, Remote: co.RemoteAddr().String(), When: time.Now()}
	_ = co.SetDeadline(time.Now().Add(c.timeout()))
	if _, err := co.Write(wire); err != nil {
		return nil, fmt.Errorf("transfer of %s from %s: sending: %w", zone, srv, err)
	}
	var end xfrEnd
	for !end.done {
		_ = co.SetDeadline(time.Now().Add(c.timeout()))
		r, raw, err := c.readXFR(ctx, co, m, &mac, res.Messages > 0)
		if err != nil {
			return res, fmt.Errorf("transfer of %s from %s: message %d: %w", zone, srv, res.Messages+1, err)
		}
		res.Messages++
		res.Bytes += len(raw)
		res.Records += len(r.Answer)
		end.see(r.Answer, x.ixfr())
		if err := each(r); err != nil {
			return res, err
		}
		res.Duration = time.Since(res.When)
	}
	return res, nil
}

func (x XFR) ixfr() bool { return x.Query.Type == dns.TypeIXFR }

func (x XFR) msg(id uint16) (*dns.Msg, error) {
	q := x.Query
	if !x.ixfr() {
		q.Type = dns.TypeAXFR
	}
	q.NoRecurse = true
	m, err := q.Msg(id)
	if err != nil {
		return nil, err
	}
	if x.ixfr() {
		qq := m.Question[0]
		m.Ns = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeSOA, Class: qq.Qclass}, Ns: ".", Mbox: ".", Serial: x.Serial}}
	}
	return m, nil
}

// readXFR reads one message of the transfer, checks its id, rcode and TSIG
// (chained on the previous MAC in *mac), and returns it with its wire form.
func (c *Client) readXFR(ctx context.Context, co *dns.Conn, q *dns.Msg, mac *string, later bool) (*dns.Msg, []byte, error) {
	raw, err := co.ReadMsgHeader(nil)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, fmt.Errorf("%w: reading: %v", ErrTransfer, err)
	}
	r := new(dns.Msg)
	if err := r.Unpack(raw); err != nil {
		return nil, nil, fmt.Errorf("%w: unpacking: %v", ErrTransfer, err)
	}
	if r.Id != q.Id {
		return nil, nil, fmt.Errorf("%w: reply id %d does not match query id %d", ErrTransfer, r.Id, q.Id)
	}
	if r.Rcode != dns.RcodeSuccess {
		if t := r.IsTsig(); t != nil && t.Error != dns.RcodeSuccess {
			return nil, nil, fmt.Errorf("%w: server answered %s (TSIG error %s)", ErrTransfer, RcodeString(r.Rcode), RcodeString(int(t.Error)))
		}
		return nil, nil, fmt.Errorf("%w: server answered %s", ErrTransfer, RcodeString(r.Rcode))
	}
	if c.TSIG != nil {
		next, err := c.TSIG.verify(raw, r, *mac, later)
		if err != nil {
			return nil, nil, err
		}
		*mac = next
	}
	if !later && (len(r.Answer) == 0 || r.Answer[0].Header().Rrtype != dns.TypeSOA) {
		return nil, nil, fmt.Errorf("%w: the first record is not the zone's SOA (the server may not serve the zone)", ErrTransfer)
	}
	return r, raw, nil
}

// xfrEnd finds the end of a transfer: AXFR (and IXFR answered in AXFR form)
// ends at the second SOA with the zone's serial; an incremental IXFR ends at
// the third (opening, start of the last additions, closing); an IXFR answer
// that is the lone SOA means the asker is up to date.
type xfrEnd struct {
	serial      uint32
	seen, index int
	incremental bool
	done        bool
}

func (e *xfrEnd) see(rrs []dns.RR, ixfr bool) {
	for _, rr := range rrs {
		e.index++
		soa, ok := rr.(*dns.SOA)
		switch {
		case e.index == 1 && ok:
			e.serial, e.seen = soa.Serial, 1
			continue
		case e.index == 2 && ixfr && ok && soa.Serial != e.serial:
			e.incremental = true
		}
		if ok && soa.Serial == e.serial {
			e.seen++
		}
		if e.seen == 2 && !e.incremental || e.seen == 3 {
			e.done = true
			return
		}
	}
	if ixfr && e.index == 1 {
		e.done = true // the lone SOA: nothing newer
	}
}
