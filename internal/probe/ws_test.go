package probe

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/dnsscience/dnsscience/internal/certtest"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
)

// wsHandler serves /echo (echoes one message, subprotocol "chat"),
// /refuse (403 instead of an upgrade) and /crash (accepts, closes 1011).
func wsHandler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"chat"}, InsecureSkipVerify: true})
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		for {
			typ, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, append([]byte("echo: "), msg...)); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/refuse", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "forbidden", http.StatusForbidden)
	})
	mux.HandleFunc("/crash", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		_ = c.Close(websocket.StatusInternalError, "backend unavailable")
	})
	return mux
}

func wsServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(wsHandler(t))
	t.Cleanup(srv.Close)
	return "ws://" + srv.Listener.Addr().String()
}

func TestWSEcho(t *testing.T) {
	base := wsServer(t)
	r, err := WS(ctx(t), WSRequest{URL: base + "/echo", Subprotocols: []string{"chat"}, Send: "hello", Expect: "echo: hello"})
	mustOK(t, r, err)
	w := r.WS
	if w.Status != 101 || w.Subprotocol != "chat" || w.Received != "echo: hello" || !w.Matched || w.ClosedBy != "client" || w.CloseCode != 1000 {
		t.Fatalf("got %+v", w)
	}
	if r.Timings.Connect <= 0 || r.Timings.FirstByte <= 0 {
		t.Fatalf("got timings %+v", r.Timings)
	}
	r, err = WS(ctx(t), WSRequest{URL: base + "/echo", Send: "hello", Expect: "goodbye"})
	mustFail(t, r, err, PhaseMessage)
	if !strings.Contains(r.Error, `does not contain "goodbye"`) {
		t.Fatalf("got %q", r.Error)
	}
}

func TestWSRefused(t *testing.T) {
	r, err := WS(ctx(t), WSRequest{URL: wsServer(t) + "/refuse"})
	mustFail(t, r, err, PhaseUpgrade)
	if r.WS.Status != 403 || !strings.Contains(r.Error, "upgrade refused: HTTP 403") {
		t.Fatalf("got status %d error %q", r.WS.Status, r.Error)
	}
}

func TestWSClose1011(t *testing.T) {
	base := wsServer(t)
	for name, req := range map[string]WSRequest{
		"linger": {URL: base + "/crash", Linger: 5 * time.Second},
		"send":   {URL: base + "/crash", Send: "hi"},
	} {
		r, err := WS(ctx(t), req)
		mustFail(t, r, err, PhaseMessage)
		if r.WS.CloseCode != 1011 || r.WS.CloseReason != "backend unavailable" || r.WS.ClosedBy != "server" {
			t.Fatalf("%s: got %+v, want server close 1011", name, r.WS)
		}
		if !strings.Contains(r.Error, "1011") {
			t.Fatalf("%s: got %q, want 1011 named", name, r.Error)
		}
	}
	// Lingering on a healthy socket is not a failure.
	r, err := WS(ctx(t), WSRequest{URL: base + "/echo", Linger: 50 * time.Millisecond})
	mustOK(t, r, err)
}

func TestWSSConnectToHost(t *testing.T) {
	root := certtest.NewCA(t, "Test Root")
	addr := tlsServer(t, root.Leaf(t, host), wsHandler(t))
	_, port, _ := net.SplitHostPort(addr)
	r, err := WS(ctx(t), WSRequest{URL: "wss://" + host + ":" + port + "/echo", Options: Options{ConnectTo: "127.0.0.1"}, RootCAs: root.Pool, Send: "x", Expect: "echo: x"})
	mustOK(t, r, err)
	if r.Timings.TLS <= 0 {
		t.Fatalf("got timings %+v, want a TLS phase", r.Timings)
	}
	r, err = WS(ctx(t), WSRequest{URL: "wss://" + addr + "/echo", Host: host, RootCAs: root.Pool})
	mustOK(t, r, err)
	r, err = WS(ctx(t), WSRequest{URL: "wss://" + addr + "/echo", RootCAs: root.Pool})
	mustFail(t, r, err, PhaseTLS)
}

func TestWSFailures(t *testing.T) {
	r, err := WS(ctx(t), WSRequest{URL: "ws://" + closedPort(t) + "/"})
	mustFail(t, r, err, PhaseConnect)
	r, err = WS(ctx(t), WSRequest{URL: wsServer(t) + "/echo", Options: Options{Dialer: netpolicy.Default().Dialer()}})
	mustFail(t, r, err, PhasePolicy)
	if _, err := WS(ctx(t), WSRequest{URL: "ftp://x/"}); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("got %v, want ErrBadRequest", err)
	}
}
