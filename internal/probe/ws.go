package probe

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
)

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
	// Linger, when no message is exchanged, is how long to wait for the
	// server to close the connection (to catch a server that accepts and
	// closes at once, with 1011 say); 0 does not wait.
	Linger time.Duration
	// RootCAs verifies the server; nil means the system roots.
	RootCAs *x509.CertPool
	// Insecure skips certificate verification.
	Insecure bool
}

// WSInfo is what a WebSocket probe saw.
type WSInfo struct {
	Status      int    `json:"status,omitempty"` // HTTP status of the upgrade response (101 when accepted)
	Subprotocol string `json:"subprotocol,omitempty"`
	Sent        string `json:"sent,omitempty"`
	Received    string `json:"received,omitempty"`
	Matched     bool   `json:"matched,omitempty"`
	// CloseCode is the close status the server sent (1000, 1011 ...); 0
	// when the server did not close. ClosedBy is "server" or "client".
	CloseCode   int    `json:"close_code,omitempty"`
	CloseReason string `json:"close_reason,omitempty"`
	ClosedBy    string `json:"closed_by,omitempty"`
}

// WS opens a WebSocket, exchanges a message when asked, and closes.
func WS(ctx context.Context, req WSRequest) (*Result, error) {
	u, err := wsURL(req.URL)
	if err != nil {
		return nil, err
	}
	res := &Result{Kind: KindWS, Target: req.URL, Start: time.Now(), WS: &WSInfo{}}
	ctx, cancel := context.WithTimeout(ctx, req.timeout())
	defer cancel()
	tr := &tracer{}
	trace := tr.trace()
	trace.GotConn = func(info httptrace.GotConnInfo) { res.Address = info.Conn.RemoteAddr().String() }
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
	if err := exchange(ctx, conn, req, res.WS); err != nil {
		res.fail(PhaseMessage, err)
		return res, nil
	}
	res.OK = true
	if res.WS.ClosedBy == "" {
		res.WS.ClosedBy = "client"
		res.WS.CloseCode = int(websocket.StatusNormalClosure)
		_ = conn.Close(websocket.StatusNormalClosure, "probe done")
	}
	return res, nil
}

// exchange sends and reads as asked and records a close by the server.
func exchange(ctx context.Context, conn *websocket.Conn, req WSRequest, info *WSInfo) error {
	if req.Send != "" {
		if err := conn.Write(ctx, websocket.MessageText, []byte(req.Send)); err != nil {
			return closed(info, err, "sending")
		}
		info.Sent = req.Send
	}
	if req.Send == "" && req.Expect == "" {
		if req.Linger <= 0 {
			return nil
		}
		lctx, cancel := context.WithTimeout(ctx, req.Linger)
		defer cancel()
		_, _, err := conn.Read(lctx)
		if err != nil && lctx.Err() != nil && ctx.Err() == nil {
			return nil // still open after lingering: healthy
		}
		if err != nil {
			return closed(info, err, "waiting")
		}
		return nil
	}
	_, msg, err := conn.Read(ctx)
	if err != nil {
		return closed(info, err, "reading the reply")
	}
	info.Received = truncate(string(msg), DefaultBodyLimit)
	if req.Expect != "" && !strings.Contains(string(msg), req.Expect) {
		return fmt.Errorf("reply %q does not contain %q", truncate(string(msg), 200), req.Expect)
	}
	info.Matched = req.Expect != ""
	return nil
}

// closed records a close frame from the server, if err is one, and
// describes the failure.
func closed(info *WSInfo, err error, doing string) error {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		info.CloseCode, info.CloseReason, info.ClosedBy = int(ce.Code), ce.Reason, "server"
		if ce.Code == websocket.StatusNormalClosure && doing == "waiting" {
			return nil
		}
		return fmt.Errorf("server closed the connection with %d (%s) %q while %s", int(ce.Code), closeName(ce.Code), ce.Reason, doing)
	}
	return fmt.Errorf("%s: %w", doing, err)
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
