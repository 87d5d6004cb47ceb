package dnstest

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"io"
	"testing"

	"github.com/miekg/dns"
	"github.com/quic-go/quic-go"
)

// StartDoQ serves h as DNS over QUIC (RFC 9250: ALPN "doq", one query per
// stream, two-byte length prefix, id 0) on 127.0.0.1 with the given
// certificate and returns host:port. Queries with a non-zero id are
// answered with FORMERR as §4.2.1 asks, so a client that sends one fails.
func StartDoQ(t testing.TB, h dns.Handler, cert tls.Certificate) string {
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
			go serveDoQConn(ctx, conn, h)
		}
	}()
	t.Cleanup(func() { cancel(); _ = l.Close(); <-done })
	return l.Addr().String()
}

func serveDoQConn(ctx context.Context, conn *quic.Conn, h dns.Handler) {
	for {
		st, err := conn.AcceptStream(ctx)
		if err != nil {
			return
		}
		go func() {
			defer st.Close()
			req, err := readDoQ(st)
			if err != nil {
				st.CancelRead(2) // DOQ_PROTOCOL_ERROR
				return
			}
			var reply *dns.Msg
			if req.Id != 0 {
				reply = new(dns.Msg)
				reply.SetRcode(req, dns.RcodeFormatError)
			} else {
				rw := &dohWriter{remote: conn.RemoteAddr().String()}
				h.ServeDNS(rw, req)
				reply = rw.msg
			}
			if reply == nil {
				return
			}
			wire, err := reply.Pack()
			if err != nil {
				return
			}
			_, _ = st.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(wire))), wire...))
		}()
	}
}

func readDoQ(r io.Reader) (*dns.Msg, error) {
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint16(n[:]))
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	if err := m.Unpack(body); err != nil {
		return nil, err
	}
	return m, nil
}
