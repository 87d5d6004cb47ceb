package traceroute

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"sync"
)

// flow sends the probes of one flow: constant identifier or ports.
type flow struct {
	v6    bool
	proto Protocol
	id    uint16 // ICMP identifier or local port
	src   netip.Addr
	dst   netip.Addr
	port  uint16
	seq   uint32
	base  uint32 // TCP initial sequence number
	out   *sock  // the socket probes are written to
	in    *sock  // the socket ICMP errors about its probes arrive on
	own   *sock  // a socket owned by the flow (closed with it)
	wg    sync.WaitGroup
	unpri bool // the flow uses datagram sockets
}

// permissionError explains what to run when no socket kind is allowed.
func permissionError(proto Protocol, err error) error {
	hint := "run as root, or give the binary the capability: sudo setcap cap_net_raw+ep \"$(command -v dnsscience)\""
	switch proto {
	case ICMP:
		gid := os.Getgid()
		hint += fmt.Sprintf("; or allow unprivileged ICMP for your group: sudo sysctl -w net.ipv4.ping_group_range=\"%d %d\" (or use --proto udp, which needs neither)", gid, gid)
	case TCP:
		hint += " (TCP SYN probes always need raw sockets; --proto udp needs no privileges)"
	}
	return fmt.Errorf("%w: %s probes: %v; %s", ErrPermission, proto, err, hint)
}

// openFlow prepares flow idx of a trace.
func (t *Tracer) openFlow(req Request) (*flow, error) {
	f := &flow{v6: req.Target.Is6(), proto: req.Protocol, dst: req.Target, port: req.Port}
	var err error
	switch req.Protocol {
	case ICMP:
		err = t.openICMPFlow(f)
	case UDP:
		err = t.openUDPFlow(f)
	case TCP:
		err = t.openTCPFlow(f)
	}
	if err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

func (t *Tracer) openICMPFlow(f *flow) error {
	raw, err := t.rawICMP(f.v6)
	if err != nil {
		return err
	}
	if raw != nil {
		f.out, f.in, f.id = raw, raw, t.allocID(f.v6)
		return nil
	}
	ps, err := openPing(f.v6)
	if err != nil {
		if isPermission(err) {
			return permissionError(ICMP, fmt.Errorf("raw and ICMP datagram sockets refused: %w", err))
		}
		return fmt.Errorf("opening ICMP datagram socket: %w", err)
	}
	f.own, f.out, f.in, f.unpri = ps, ps, ps, true
	if err := ps.bind(unspec(f.v6), 0); err != nil {
		return fmt.Errorf("binding ICMP datagram socket: %w", err)
	}
	if err := ps.recvErr(); err != nil {
		return fmt.Errorf("enabling the error queue: %w", err)
	}
	if _, f.id, err = ps.local(); err != nil {
		return err
	}
	f.startListener(t)
	return nil
}

func (t *Tracer) openUDPFlow(f *flow) error {
	raw, err := t.rawICMP(f.v6)
	if err != nil {
		return err
	}
	us, err := openUDP(f.v6)
	if err != nil {
		return fmt.Errorf("opening UDP socket: %w", err)
	}
	f.own, f.out, f.in = us, us, raw
	if raw == nil {
		f.in = us
		f.unpri = true
		if err := us.recvErr(); err != nil {
			return fmt.Errorf("enabling the error queue: %w", err)
		}
	}
	if err := us.connect(f.dst, f.port); err != nil {
		return fmt.Errorf("connecting UDP socket to %s: %w", f.dst, err)
	}
	if f.src, f.id, err = us.local(); err != nil {
		return err
	}
	if f.unpri {
		f.startListener(t)
	}
	return nil
}

func (t *Tracer) openTCPFlow(f *flow) error {
	raw, err := t.rawICMP(f.v6)
	if err != nil {
		return err
	}
	if raw == nil {
		return permissionError(TCP, errors.New("raw sockets refused"))
	}
	f.in = raw
	if f.out, err = t.rawTCP(f.v6); err != nil {
		if isPermission(err) {
			return permissionError(TCP, err)
		}
		return err
	}
	if f.src, err = sourceFor(f.dst, f.port); err != nil {
		return err
	}
	if f.own, err = openTCPPort(f.v6, f.src); err != nil {
		return fmt.Errorf("reserving a TCP port: %w", err)
	}
	if _, f.id, err = f.own.local(); err != nil {
		return err
	}
	f.base = rand.Uint32()
	return nil
}

// sourceFor finds the local address the kernel uses to reach dst.
func sourceFor(dst netip.Addr, port uint16) (netip.Addr, error) {
	s, err := openUDP(dst.Is6())
	if err != nil {
		return netip.Addr{}, err
	}
	defer s.close()
	if err := s.connect(dst, port); err != nil {
		return netip.Addr{}, fmt.Errorf("no route to %s: %w", dst, err)
	}
	a, _, err := s.local()
	return a, err
}

func unspec(v6 bool) netip.Addr {
	if v6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

func (f *flow) startListener(t *Tracer) {
	f.wg.Add(1)
	go t.listenFlow(f.own, f.proto, f.id, f.wg.Done)
}

// nextKey numbers the flow's next probe.
func (f *flow) nextKey() key {
	f.seq++
	if f.proto == UDP && f.seq%0x10000 >= 0xffff {
		f.seq = 1 // UDP sequence numbers live in the checksum: 1-0xfffe
	}
	k := key{v6: f.v6, proto: f.proto, id: f.id, seq: f.seq & 0xffff}
	if f.proto == TCP {
		k.seq = f.base + f.seq
	}
	return k
}

// send writes the probe for k with the given TTL.
func (f *flow) send(k key, ttl int) error {
	switch f.proto {
	case ICMP:
		return f.out.send(echoRequest(f.v6, f.id, uint16(k.seq)), ttl, f.dst)
	case UDP:
		b := udpPayload(f.src, f.dst, f.id, f.port, uint16(k.seq))
		err := f.out.send(b, ttl, netip.Addr{})
		if isPendingICMPError(err) {
			// An ICMP error for an earlier probe (port unreachable) is
			// reported once, by the next send on the connected socket.
			err = f.out.send(b, ttl, netip.Addr{})
		}
		return err
	default:
		return f.out.send(tcpSYN(f.src, f.dst, f.id, f.port, k.seq), ttl, f.dst)
	}
}

func (f *flow) close() {
	if f.own != nil {
		f.own.close()
	}
	f.wg.Wait()
}
