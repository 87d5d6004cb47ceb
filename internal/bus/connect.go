package bus

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/coder/websocket"
)

// ConnectPath is where agents open their WebSocket (relative to the
// server's URL).
const ConnectPath = "/api/v1/agents/connect"

// maxFrame bounds one WebSocket message from an agent.
const maxFrame = 16 << 20

// ServeHTTP upgrades an agent's request to a WebSocket and joins it to
// the embedded NATS server: the agent speaks the NATS protocol inside
// binary messages and authenticates with its token in CONNECT, so the
// only thing it needs is an outbound HTTP(S) connection to this server.
func (b *Bus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		w.Header().Set(AddressHeader, host)
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{})
	if err != nil {
		return // Accept wrote the error
	}
	ws.SetReadLimit(maxFrame)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nc, err := b.ns.InProcessConn()
	if err != nil {
		ws.Close(websocket.StatusTryAgainLater, "the NATS server is not accepting connections")
		return
	}
	wc := websocket.NetConn(ctx, ws, websocket.MessageBinary)
	var once sync.Once
	closeBoth := func() { once.Do(func() { nc.Close(); wc.Close() }) }
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); defer closeBoth(); _, _ = io.Copy(nc, wc) }()
	go func() { defer wg.Done(); defer closeBoth(); _, _ = io.Copy(wc, nc) }()
	wg.Wait()
}
