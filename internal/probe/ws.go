package probe

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// DefaultLinger is how long a WebSocket probe with nothing to exchange
// waits, after the upgrade, for the server to close when WSRequest.Linger is
// zero.
const DefaultLinger = time.Second

// Who closed a WebSocket (WSInfo.ClosedBy).
const (
	ClosedByServer = "server"
	ClosedByClient = "client"
)

// StatusNoCloseFrame is the close code recorded when the server ended the
// connection without a close frame (RFC 6455 reserves 1006 for that; it is
// never sent on the wire).
const StatusNoCloseFrame = 1006

// WSRequest asks for a WebSocket handshake, optionally with a message to
// send and a reply to expect.
type WSRequest struct {
	// URL is ws://, wss://, http:// or https://.
	URL string
	Options
	// Header is sent with the upgrade request.
	Header http.Header
	// Host overrides the Host header and, over wss, the SNI.
	Host string
	// Subprotocols are offered in Sec-WebSocket-Protocol.
	Subprotocols []string
	// Send is sent as a text message once connected.
	Send string
	// Expect, when set, must appear in the first message received.
	Expect string
	// Linger, when no message is exchanged (no Send, no Expect), is how
	// long to wait after the upgrade for the server to close, so that a
	// server that accepts and then fails (closing with 1011, say) is seen;
	// 0 means DefaultLinger. The wait ends early when a message arrives
	// (the server is talking: healthy) and never outlasts Timeout.
	Linger time.Duration
	// NoLinger closes right after the upgrade (Linger is ignored).
	NoLinger bool
	// OKCloseCodes are the close codes a server may send without failing
	// the probe; nil means 1000 (normal) and 1001 (going away).
	OKCloseCodes []int
	// RootCAs verifies the server; nil means the system roots.
	RootCAs *x509.CertPool
	// Insecure skips certificate verification.
	Insecure bool
}

func (r WSRequest) linger() time.Duration {
	switch {
	case r.NoLinger:
		return 0
	case r.Linger > 0:
		return r.Linger
	}
	return DefaultLinger
}

func (r WSRequest) okClose(code int) bool {
	if r.OKCloseCodes == nil {
		return code == int(websocket.StatusNormalClosure) || code == int(websocket.StatusGoingAway)
	}
	return slices.Contains(r.OKCloseCodes, code)
}

// WSInfo is what a WebSocket probe saw.
type WSInfo struct {
	Status      int    `json:"status,omitempty"` // HTTP status of the upgrade response (101 when accepted)
	Subprotocol string `json:"subprotocol,omitempty"`
	Sent        string `json:"sent,omitempty"`
	Received    string `json:"received,omitempty"`
	Matched     bool   `json:"matched,omitempty"`
	// ClosedBy is who ended the connection: "server" (a close frame, or
	// the connection dropped: code 1006) or "client" (the probe, once done).
	ClosedBy string `json:"closed_by,omitempty"`
	// CloseCode and CloseReason are the SERVER's close status and reason
	// (1000, 1011 ...; 1006 when it hung up without a close frame); 0 and
	// "" when the probe closed first.
	CloseCode   int    `json:"close_code,omitempty"`
	CloseReason string `json:"close_reason,omitempty"`
	// ClosedAfter is the time from the upgrade to the close (whoever
	// closed); JSON closed_after_ms.
	ClosedAfter time.Duration `json:"-"`
	// Lingered is how long the probe waited for the server after the
	// upgrade (0 when a message was exchanged or NoLinger); JSON linger_ms.
	Lingered time.Duration `json:"-"`
}

// MarshalJSON adds closed_after_ms and linger_ms.
func (w WSInfo) MarshalJSON() ([]byte, error) {
	type plain WSInfo
	return json.Marshal(struct {
		plain
		ClosedAfterMS float64 `json:"closed_after_ms,omitempty"`
		LingerMS      float64 `json:"linger_ms,omitempty"`
	}{plain(w), ms(w.ClosedAfter), ms(w.Lingered)})
}

// WS opens a WebSocket, exchanges a message (or lingers) as asked, and
// closes. A server close with a code outside OKCloseCodes fails the probe
// (phase message), whenever it comes.
func WS(ctx context.Context, req WSRequest) (*Result, error) {
	u, err := wsURL(req.URL)
	if err != nil {
		return nil, err
	}
	res := &Result{limit: req.timeout(), Kind: KindWS, Target: req.URL, Start: time.Now(), WS: &WSInfo{}}
	ctx, cancel := context.WithTimeout(ctx, req.timeout())
	defer cancel()
	tr := &tracer{}
	trace := tr.trace()
	var raw net.Conn // the connection under the WebSocket, to hang up on a server that does not close
	trace.GotConn = func(info httptrace.GotConnInfo) {
		raw = info.Conn
		res.Address = info.Conn.RemoteAddr().String()
	}
	trace.GotFirstResponseByte = func() {
		tr.mu.Lock()
		tr.t.FirstByte = time.Since(res.Start)
		tr.mu.Unlock()
	}
	defer tr.finish(res)
	hreq := HTTPRequest{URL: u.String(), Options: req.Options, Host: req.Host, RootCAs: req.RootCAs, Insecure: req.Insecure}
	client := httpClient(hreq, u, false)
	defer client.CloseIdleConnections()
	conn, resp, err := websocket.Dial(httptrace.WithClientTrace(ctx, trace), u.String(), &websocket.DialOptions{
		HTTPClient: client, HTTPHeader: req.Header, Host: req.Host, Subprotocols: req.Subprotocols,
	})
	if resp != nil {
		res.WS.Status = resp.StatusCode
	}
	if err != nil {
		phase := httpPhase(err, tr, u.Scheme == "https")
		if resp != nil {
			phase = PhaseUpgrade
			err = fmt.Errorf("upgrade refused: HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		}
		res.fail(phase, fmt.Errorf("opening %s: %w", req.URL, unwrapURL(err)))
		return res, nil
	}
	defer conn.CloseNow()
	res.WS.Subprotocol = conn.Subprotocol()
	s := &wsSession{conn: conn, raw: raw, req: req, info: res.WS, upgraded: time.Now()}
	if err := s.run(ctx); err != nil {
		res.fail(PhaseMessage, err)
		return res, nil
	}
	res.OK = true
	return res, nil
}

// wsSession is one open connection: the exchange or the linger, and how
// it ended.
type wsSession struct {
	conn     *websocket.Conn
	raw      net.Conn // the connection under it (nil if unknown)
	req      WSRequest
	info     *WSInfo
	upgraded time.Time
}

type wsRead struct {
	msg []byte
	err error
}

// run exchanges or lingers, then closes from the client side unless the
// server already closed; a server close is judged by OKCloseCodes.
func (s *wsSession) run(ctx context.Context) error {
	var err error
	if s.req.Send != "" || s.req.Expect != "" {
		err = s.exchange(ctx)
	} else {
		err = s.linger(ctx)
	}
	if s.info.ClosedBy == "" {
		s.info.ClosedBy, s.info.ClosedAfter = ClosedByClient, time.Since(s.upgraded)
		s.closeBounded(ctx)
	}
	return err
}

// read starts reading one message in a goroutine whose context is the
// probe's, so that giving up on it (a timer) does not tear the connection
// down unasked (coder/websocket closes the connection when a read's context
// ends).
func (s *wsSession) read(ctx context.Context) <-chan wsRead {
	ch := make(chan wsRead, 1)
	go func() {
		_, msg, err := s.conn.Read(ctx)
		ch <- wsRead{msg, err}
	}()
	return ch
}

// linger waits for the server to close, a message, or the end of the
// linger (still open: healthy).
func (s *wsSession) linger(ctx context.Context) error {
	d := s.req.linger()
	if d <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok {
		// Keep a little of the timeout for the client's close.
		reserve := min(500*time.Millisecond, s.req.timeout()/10)
		d = min(d, time.Until(dl)-reserve)
	}
	start := time.Now()
	defer func() { s.info.Lingered = time.Since(start) }()
	ch := s.read(ctx)
	timer := time.NewTimer(max(d, 0))
	defer timer.Stop()
	select {
	case r := <-ch:
		if r.err != nil {
			return s.closed(ctx, r.err, "waiting")
		}
		s.info.Received = truncate(string(r.msg), DefaultBodyLimit)
		return nil
	case <-timer.C:
		return nil
	}
}

// exchange sends and reads as asked.
func (s *wsSession) exchange(ctx context.Context) error {
	if s.req.Send != "" {
		if err := s.conn.Write(ctx, websocket.MessageText, []byte(s.req.Send)); err != nil {
			return s.closed(ctx, err, "sending")
		}
		s.info.Sent = s.req.Send
	}
	r := <-s.read(ctx)
	if r.err != nil {
		if err := s.closed(ctx, r.err, "reading the reply"); err != nil {
			return err
		}
		return fmt.Errorf("server closed the connection with %d before replying", s.info.CloseCode)
	}
	msg := string(r.msg)
	s.info.Received = truncate(msg, DefaultBodyLimit)
	if s.req.Expect != "" && !strings.Contains(msg, s.req.Expect) {
		return fmt.Errorf("reply %q does not contain %q", truncate(msg, 200), s.req.Expect)
	}
	s.info.Matched = s.req.Expect != ""
	return nil
}

// closeBounded closes with 1000 and waits briefly for the server's close
// frame (a server that does not read never answers), then hangs up.
func (s *wsSession) closeBounded(ctx context.Context) {
	wait := min(500*time.Millisecond, s.req.timeout()/10)
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	done := make(chan struct{})
	go func() {
		_ = s.conn.Close(websocket.StatusNormalClosure, "probe done")
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		if s.raw != nil {
			_ = s.raw.Close() // ends the close handshake's wait
		}
		<-done
	}
}

// closed records how the server ended the connection, when err says it
// did, and returns the failure, or nil for a close with an accepted code.
func (s *wsSession) closed(ctx context.Context, err error, doing string) error {
	var ce websocket.CloseError
	switch {
	case errors.As(err, &ce):
		s.info.CloseCode, s.info.CloseReason = int(ce.Code), ce.Reason
	case ctx.Err() != nil:
		return fmt.Errorf("%s: timed out after %s", doing, s.req.timeout())
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET):
		s.info.CloseCode = StatusNoCloseFrame
	default:
		return fmt.Errorf("%s: %w", doing, err)
	}
	s.info.ClosedBy, s.info.ClosedAfter = ClosedByServer, time.Since(s.upgraded)
	when := ShortDuration(s.info.ClosedAfter) + " after the upgrade"
	if doing != "waiting" {
		when += ", while " + doing
	}
	if s.info.CloseCode == StatusNoCloseFrame {
		return fmt.Errorf("server dropped the connection without a close frame %s", when)
	}
	if s.req.okClose(s.info.CloseCode) {
		return nil
	}
	reason := ""
	if ce.Reason != "" {
		reason = fmt.Sprintf(" %q", ce.Reason)
	}
	return fmt.Errorf("server closed the connection with %d (%s)%s %s", int(ce.Code), closeName(ce.Code), reason, when)
}

// ShortDuration renders d for people: 0.4ms, 12ms, 2.1s.
func ShortDuration(d time.Duration) string {
	switch {
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

func closeName(c websocket.StatusCode) string {
	s := c.String()
	return strings.TrimPrefix(s, "Status")
}

func wsURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w: %q is not a ws:// or wss:// URL", ErrBadRequest, raw)
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	case "http", "https":
	default:
		return nil, fmt.Errorf("%w: %q is not a ws:// or wss:// URL", ErrBadRequest, raw)
	}
	return u, nil
}
