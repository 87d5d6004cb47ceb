package dnsq

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/miekg/dns"
	"github.com/quic-go/quic-go"
)

// doq sends m over DNS over QUIC (RFC 9250): a QUIC connection with ALPN
// "doq", one bidirectional stream per query carrying the message with a
// two-byte length prefix and id 0, the client's side of the stream closed
// after the query (§4.2).
func (c *Client) doq(ctx context.Context, srv Server, m *dns.Msg) (*Response, error) {
	q := m.Copy()
	q.Id = 0 // RFC 9250 §4.2.1; a TSIG signs the message with id 0
	wire, reqMAC, err := c.pack(q)
	if err != nil {
		return nil, err
	}
	pc, raddr, err := c.quicSocket(ctx, srv)
	if err != nil {
		return nil, err
	}
	defer pc.Close()
	tlsConf := c.tlsConfig(srv)
	tlsConf.NextProtos = []string{"doq"}
	start := time.Now()
	conn, err := quic.Dial(ctx, pc, raddr, tlsConf, &quic.Config{})
	if err != nil {
		return nil, fmt.Errorf("QUIC handshake: %w", err)
	}
	defer conn.CloseWithError(0, "") // DOQ_NO_ERROR
	st, err := conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening a QUIC stream: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = st.SetDeadline(dl)
	}
	out := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(wire)), uint16(len(wire)))
	if _, err := st.Write(append(out, wire...)); err != nil {
		return nil, fmt.Errorf("sending: %w", err)
	}
	_ = st.Close() // no more queries on this stream
	var length [2]byte
	if _, err := io.ReadFull(st, length[:]); err != nil {
		return nil, fmt.Errorf("reading reply: %w", err)
	}
	body := make([]byte, binary.BigEndian.Uint16(length[:]))
	if _, err := io.ReadFull(st, body); err != nil {
		return nil, fmt.Errorf("reading reply: %w", err)
	}
	rtt := time.Since(start)
	r := new(dns.Msg)
	if err := r.Unpack(body); err != nil {
		return nil, fmt.Errorf("unpacking reply: %w", err)
	}
	if err := c.verifyReply(body, r, reqMAC); err != nil {
		return nil, err
	}
	r.Id = m.Id
	return &Response{
		Msg: r, Server: srv, Transport: QUIC, RTT: rtt, When: start,
		SentSize: len(wire), RecvSize: len(body), Remote: raddr.String(), Query: m,
	}, nil
}

// quicSocket opens the UDP socket a QUIC connection runs on, from
// Client.Source and in Client.Family when set, and resolves the server.
func (c *Client) quicSocket(ctx context.Context, srv Server) (net.PacketConn, *net.UDPAddr, error) {
	network := "udp" + c.Family
	host, port, err := net.SplitHostPort(srv.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("bad DoQ address %q: %w", srv.Addr, err)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip"+c.Family, host)
	if err != nil || len(ips) == 0 {
		return nil, nil, fmt.Errorf("looking up %s: %w", host, err)
	}
	raddr, err := net.ResolveUDPAddr(network, net.JoinHostPort(ips[0].Unmap().String(), port))
	if err != nil {
		return nil, nil, err
	}
	var laddr *net.UDPAddr
	if c.Source.IsValid() {
		laddr = net.UDPAddrFromAddrPort(c.Source)
	}
	pc, err := net.ListenUDP(network, laddr)
	if err != nil {
		return nil, nil, fmt.Errorf("opening a UDP socket for QUIC: %w", err)
	}
	return pc, raddr, nil
}
