package dnstest

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/quic-go/quic-go"
)

// StartDoQ serves h as DNS over QUIC (RFC 9250: ALPN "doq", one query per
// stream, two-byte length prefix, id 0) on 127.0.0.1 with the given
// certificate and returns host:port. Queries with a non-zero id are
// answered with FORMERR as §4.2.1 asks, so a client that sends one fails.
func StartDoQ(t testing.TB, h dns.Handler, cert tls.Certificate) string {
	t.Helper()
	return startDoQ(t, cert, func(_ context.Context, wire []byte, remote string) []byte {
		req := new(dns.Msg)
		if err := req.Unpack(wire); err != nil {
			return nil
		}
		var reply *dns.Msg
		if req.Id != 0 {
			reply = new(dns.Msg)
			reply.SetRcode(req, dns.RcodeFormatError)
		} else {
			rw := &dohWriter{remote: remote}
			h.ServeDNS(rw, req)
			reply = rw.msg
		}
		if reply == nil {
			return nil
		}
		out, err := reply.Pack()
		if err != nil {
			return nil
		}
		return out
	})
}

// StartDoQRelay serves DNS over QUIC on 127.0.0.1 in front of a real
// server: each query's bytes go unchanged to upstream over TCP and the
// reply's bytes come back unchanged, so that what a message carries (a
// TSIG) is checked by upstream (knotd) and not by this relay. It stands in
// for a DoQ front end where Debian has none (Knot 3.2, dnsdist 1.7).
func StartDoQRelay(t testing.TB, upstream string, cert tls.Certificate) string {
	t.Helper()
	return startDoQ(t, cert, func(ctx context.Context, wire []byte, _ string) []byte {
		reply, err := relayTCP(ctx, upstream, wire)
		if err != nil {
			return nil
		}
		return reply
	})
}

func relayTCP(ctx context.Context, upstream string, wire []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", upstream)
	if err != nil {
		return nil, fmt.Errorf("relaying to %s: %w", upstream, err)
	}
	defer conn.Close()
	dl, _ := ctx.Deadline()
	_ = conn.SetDeadline(dl)
	if _, err := conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(wire))), wire...)); err != nil {
		return nil, fmt.Errorf("relaying to %s: %w", upstream, err)
	}
	return readFramed(conn)
}

// startDoQ listens for DoQ and answers each stream's query with serve's
// reply (nil: no reply).
func startDoQ(t testing.TB, cert tls.Certificate, serve func(ctx context.Context, wire []byte, remote string) []byte) string {
	t.Helper()
	l, err := quic.ListenAddr("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"doq"}}, &quic.Config{})
	if err != nil {
		t.Fatalf("listening for DoQ: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := l.Accept(ctx)
			if err != nil {
				return
			}
			go serveDoQConn(ctx, conn, serve)
		}
	}()
	t.Cleanup(func() { cancel(); _ = l.Close(); <-done })
	return l.Addr().String()
}

func serveDoQConn(ctx context.Context, conn *quic.Conn, serve func(ctx context.Context, wire []byte, remote string) []byte) {
	for {
		st, err := conn.AcceptStream(ctx)
		if err != nil {
			return
		}
		go func() {
			defer st.Close()
			wire, err := readFramed(st)
			if err != nil {
				st.CancelRead(2) // DOQ_PROTOCOL_ERROR
				return
			}
			reply := serve(ctx, wire, conn.RemoteAddr().String())
			if reply == nil {
				return
			}
			_, _ = st.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(reply))), reply...))
		}()
	}
}

// readFramed reads one message with a two-byte length prefix.
func readFramed(r io.Reader) ([]byte, error) {
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return body, nil
}
