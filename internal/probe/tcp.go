package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// TCPRequest asks for a TCP connect, optionally with a payload to send and
// a reply (banner) to expect.
type TCPRequest struct {
	// Address is host:port.
	Address string
	Options
	// Send is written once connected; empty sends nothing.
	Send string
	// Expect, when set, must appear in what the server sends (read until it
	// appears, ReadLimit bytes arrive, the server closes or the probe times
	// out).
	Expect string
	// ReadLimit bounds the bytes read and kept; 0 means 4096.
	ReadLimit int
}

// TCPInfo is what a TCP probe saw.
type TCPInfo struct {
	Local    string `json:"local,omitempty"`
	Family   string `json:"family,omitempty"` // ipv4 or ipv6
	Received string `json:"received,omitempty"`
	Matched  bool   `json:"matched,omitempty"` // Expect was found
}

// TCP connects to req.Address and, when asked, exchanges a banner.
func TCP(ctx context.Context, req TCPRequest) (*Result, error) {
	host, port, err := splitHostPort(req.Address, "")
	if err != nil {
		return nil, err
	}
	res := &Result{limit: req.timeout(), Kind: KindTCP, Target: req.Address, Start: time.Now(), TCP: &TCPInfo{}}
	ctx, cancel := context.WithTimeout(ctx, req.timeout())
	defer cancel()
	tr := &tracer{}
	conn, err := req.dialer().DialContext(withTrace(ctx, tr), req.network(), req.dialAddr(net.JoinHostPort(host, port)))
	defer tr.finish(res)
	if err != nil {
		res.fail(dialPhase(err), fmt.Errorf("connecting to %s: %w", req.Address, err))
		return res, nil
	}
	defer conn.Close()
	res.Address = conn.RemoteAddr().String()
	res.TCP.Local = conn.LocalAddr().String()
	res.TCP.Family = family(conn.RemoteAddr())
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if req.Send != "" {
		if _, err := io.WriteString(conn, req.Send); err != nil {
			res.fail(PhaseSend, fmt.Errorf("sending to %s: %w", res.Address, err))
			return res, nil
		}
	}
	if req.Expect == "" {
		res.OK = true
		return res, nil
	}
	got, first, err := readUntil(conn, []byte(req.Expect), req.ReadLimit)
	res.TCP.Received = string(got)
	if !first.IsZero() {
		tr.mu.Lock()
		tr.t.FirstByte = first.Sub(res.Start)
		tr.mu.Unlock()
	}
	if bytes.Contains(got, []byte(req.Expect)) {
		res.TCP.Matched, res.OK = true, true
		return res, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = fmt.Errorf("reply %q does not contain %q", truncate(string(got), 200), req.Expect)
	} else {
		err = fmt.Errorf("reading from %s before %q arrived: %w", res.Address, req.Expect, err)
	}
	res.fail(PhaseRead, err)
	return res, nil
}

// readUntil reads from r until want appears, limit bytes arrive or r fails;
// it reports when the first byte arrived.
func readUntil(r io.Reader, want []byte, limit int) ([]byte, time.Time, error) {
	if limit <= 0 {
		limit = 4096
	}
	var (
		buf   []byte
		first time.Time
		chunk = make([]byte, 1024)
	)
	for len(buf) < limit {
		n, err := r.Read(chunk[:min(len(chunk), limit-len(buf))])
		if n > 0 && first.IsZero() {
			first = time.Now()
		}
		buf = append(buf, chunk[:n]...)
		if bytes.Contains(buf, want) {
			return buf, first, nil
		}
		if err != nil {
			return buf, first, err
		}
	}
	return buf, first, nil
}

func family(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		if ta.IP.To4() != nil {
			return "ipv4"
		}
		return "ipv6"
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
