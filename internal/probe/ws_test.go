package probe

import (
	"context"
	"encoding/json"
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
	// /crash-later closes 1011 after ?after= (a duration); /bye closes 1000
	// at once; /drop hangs up without a close frame.
	mux.HandleFunc("/crash-later", func(w http.ResponseWriter, r *http.Request) {
		after, _ := time.ParseDuration(r.URL.Query().Get("after"))
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		select {
		case <-time.After(after):
			_ = c.Close(websocket.StatusInternalError, "lost the database")
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/bye", func(w http.ResponseWriter, r *http.Request) {
		if c, err := websocket.Accept(w, r, nil); err == nil {
			_ = c.Close(websocket.StatusNormalClosure, "bye")
		}
	})
	mux.HandleFunc("/drop", func(w http.ResponseWriter, r *http.Request) {
		if c, err := websocket.Accept(w, r, nil); err == nil {
			_ = c.CloseNow()
		}
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
	if w.Status != 101 || w.Subprotocol != "chat" || w.Received != "echo: hello" || !w.Matched || w.ClosedBy != "client" || w.CloseCode != 0 {
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
	t.Parallel()
	base := wsServer(t)
	for name, req := range map[string]WSRequest{
		"default linger": {URL: base + "/crash"},
		"send":           {URL: base + "/crash", Send: "hi"},
	} {
		r, err := WS(ctx(t), req)
		mustFail(t, r, err, PhaseMessage)
		if r.WS.CloseCode != 1011 || r.WS.CloseReason != "backend unavailable" || r.WS.ClosedBy != "server" {
			t.Fatalf("%s: got %+v, want server close 1011", name, r.WS)
		}
		if !strings.Contains(r.Error, `server closed the connection with 1011 (InternalError) "backend unavailable"`) {
			t.Fatalf("%s: got %q, want 1011 named", name, r.Error)
		}
	}
}

// TestWSLinger: the server's own close is what counts, whenever it comes
// within the linger; the probe's close is recorded as the client's.
func TestWSLinger(t *testing.T) {
	t.Parallel()
	base := wsServer(t)
	cases := []struct {
		name     string
		req      WSRequest
		ok       bool
		by       string
		code     int
		minAfter time.Duration
		maxTotal time.Duration
	}{
		{"1011 after 300ms caught by the default linger", WSRequest{URL: base + "/crash-later?after=300ms"}, false, "server", 1011, 300 * time.Millisecond, 2 * time.Second},
		{"1011 after 300ms missed without linger", WSRequest{URL: base + "/crash-later?after=300ms", NoLinger: true}, true, "client", 0, 0, 2 * time.Second},
		{"1011 after 1.5s missed by a 200ms linger", WSRequest{URL: base + "/crash-later?after=1500ms", Linger: 200 * time.Millisecond}, true, "client", 0, 200 * time.Millisecond, time.Second},
		{"1000 at once is a normal close", WSRequest{URL: base + "/bye"}, true, "server", 1000, 0, time.Second},
		{"1000 refused by OKCloseCodes", WSRequest{URL: base + "/bye", OKCloseCodes: []int{1001}}, false, "server", 1000, 0, time.Second},
		{"dropped without a close frame", WSRequest{URL: base + "/drop"}, false, "server", StatusNoCloseFrame, 0, time.Second},
		{"open for the whole linger", WSRequest{URL: base + "/echo", Linger: 100 * time.Millisecond}, true, "client", 0, 100 * time.Millisecond, time.Second},
		{"linger cut to the timeout", WSRequest{URL: base + "/echo", Linger: time.Minute, Options: Options{Timeout: 600 * time.Millisecond}}, true, "client", 0, 400 * time.Millisecond, 900 * time.Millisecond},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, err := WS(ctx(t), c.req)
			if err != nil {
				t.Fatal(err)
			}
			w := r.WS
			if r.OK != c.ok || w.ClosedBy != c.by || w.CloseCode != c.code {
				t.Fatalf("got ok=%v closed by %q code %d (%s), want ok=%v by %q code %d", r.OK, w.ClosedBy, w.CloseCode, r.Error, c.ok, c.by, c.code)
			}
			if w.ClosedAfter < c.minAfter || r.Timings.Total > c.maxTotal {
				t.Fatalf("closed after %s, total %s; want at least %s and at most %s in all", w.ClosedAfter, r.Timings.Total, c.minAfter, c.maxTotal)
			}
		})
	}
}

func TestWSInfoJSON(t *testing.T) {
	b, err := json.Marshal(WSInfo{Status: 101, ClosedBy: "server", CloseCode: 1011, ClosedAfter: 2500 * time.Millisecond, Lingered: 2500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"status":101,"closed_by":"server","close_code":1011,"closed_after_ms":2500,"linger_ms":2500}`
	if string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
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

// TestWSCloseBounded: a server that never answers the client's close frame
// (it does not read) holds the probe for a tenth of the timeout at most, over
// TLS too.
func TestWSCloseBounded(t *testing.T) {
	t.Parallel()
	root := certtest.NewCA(t, "Test Root")
	addr := tlsServer(t, root.Leaf(t, host), wsHandler(t))
	for _, linger := range []bool{false, true} {
		r, err := WS(ctx(t), WSRequest{URL: "wss://" + addr + "/crash-later?after=10s", Host: host, RootCAs: root.Pool,
			NoLinger: !linger, Linger: 100 * time.Millisecond, Options: Options{Timeout: 2 * time.Second}})
		mustOK(t, r, err)
		if r.WS.ClosedBy != ClosedByClient || r.Timings.Total > 700*time.Millisecond {
			t.Fatalf("linger %v: closed by %q after %s in all, want the client's close within 200ms", linger, r.WS.ClosedBy, r.Timings.Total)
		}
	}
}
