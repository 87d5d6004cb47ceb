package agent

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/dnsscience/dnsscience/internal/bus"
)

// ctxDialer adapts a context dialer to the NATS client's dialer.
type ctxDialer struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (d ctxDialer) Dial(network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return d.dial(ctx, network, addr)
}

// wsDialer opens a WebSocket to the server's agents endpoint and carries
// the NATS protocol in binary messages.
type wsDialer struct {
	url    string
	host   string
	client *http.Client
	// seen is the address the server saw the agent connect from (its
	// answer's bus.AddressHeader): its public address behind NAT.
	seen atomic.Value // string
}

// address is the address the server last saw, or "".
func (d *wsDialer) address() string {
	s, _ := d.seen.Load().(string)
	return s
}

func newWSDialer(server string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*wsDialer, error) {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("--server %q: want http(s)://host[:port]", server)
	}
	ws := *u
	ws.Scheme = strings.Replace(u.Scheme, "http", "ws", 1)
	ws.Path = strings.TrimSuffix(u.Path, "/") + bus.ConnectPath
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = dial
	tr.Proxy = http.ProxyFromEnvironment
	return &wsDialer{url: ws.String(), host: host, client: &http.Client{Transport: tr}}, nil
}

// Dial implements nats.CustomDialer.
func (d *wsDialer) Dial(_, _ string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, d.url, &websocket.DialOptions{HTTPClient: d.client})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("opening %s: HTTP %s: %w", d.url, resp.Status, err)
		}
		return nil, fmt.Errorf("opening %s: %w", d.url, err)
	}
	if a := resp.Header.Get(bus.AddressHeader); a != "" {
		d.seen.Store(a)
	}
	c.SetReadLimit(16 << 20)
	return websocket.NetConn(context.Background(), c, websocket.MessageBinary), nil
}
