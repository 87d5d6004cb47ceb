// Package agent is the remote vantage point: `dnsscience agent` connects
// out to a server (a WebSocket to its HTTP port, or a NATS URL),
// authenticates with its token, announces where it is, runs the
// measurements it is sent through the same registry and engines as the
// server, and streams their events back. It listens on no port and keeps
// no database: while disconnected it retries with backoff, and what it
// publishes meanwhile waits in the client's reconnect buffer.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/store"
)

// Config configures an agent; zero values are documented defaults.
type Config struct {
	// Server is the server's URL: http(s)://host:port (a WebSocket to its
	// agents endpoint) or nats://host:port. Required.
	Server string
	// Token is the credential `dnsscience agents add NAME` printed. Required.
	Token string
	// Display, City, Country, Latitude, Longitude and ASN describe the
	// location; empty ones are left to the server.
	Display, City, Country string
	Latitude, Longitude    *float64
	ASN                    uint32
	// PublicAddress is announced for the server to place the agent from
	// its geo data when Latitude and Longitude are not set; empty means
	// the address the server saw the agent connect from.
	PublicAddress string
	// Version is announced to the server.
	Version string
	// Env is what measurements run with. Required.
	Env *measure.Env
	// Registry lists the kinds; nil means measure.New().
	Registry *measure.Registry
	// Heartbeat is the interval of announcements; 0 means 5 s. The server
	// counts the agent offline after three are missed.
	Heartbeat time.Duration
	// MaxBackoff bounds the wait between connection attempts; 0 means 30 s.
	MaxBackoff time.Duration
	// Dial opens the TCP connection to the server; nil means net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Log receives the agent's state changes; nil discards them.
	Log *slog.Logger
}

// ErrRefused is returned when the server refuses the credential.
var ErrRefused = errors.New("the server refused the agent's credential (unknown or revoked token)")

// Agent is a running agent.
type Agent struct {
	cfg  Config
	name string
	conn *nats.Conn
	ws   *wsDialer // nil for a nats:// server

	mu      sync.Mutex
	running map[string]context.CancelFunc
}

func (c *Config) defaults() error {
	if c.Server == "" || c.Token == "" || c.Env == nil {
		return errors.New("agent: a server URL, a token and an env are required")
	}
	if c.Registry == nil {
		c.Registry = measure.New()
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = 5 * time.Second
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.Dial == nil {
		c.Dial = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Run connects and serves until ctx ends (nil) or the server refuses the
// credential (ErrRefused).
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.defaults(); err != nil {
		return err
	}
	name, err := store.AgentTokenName(cfg.Token)
	if err != nil {
		return err
	}
	a := &Agent{cfg: cfg, name: name, running: map[string]context.CancelFunc{}}
	closed := make(chan error, 1)
	if err := a.connect(ctx, closed); err != nil {
		return err
	}
	defer a.conn.Close()
	if err := a.subscribe(ctx); err != nil {
		return err
	}
	t := time.NewTicker(cfg.Heartbeat)
	defer t.Stop()
	a.heartbeat()
	for {
		select {
		case <-ctx.Done():
			a.stopAll()
			_ = a.conn.Drain()
			return nil
		case err := <-closed:
			a.stopAll()
			return err
		case <-t.C:
			a.heartbeat()
		}
	}
}

// connect tries until connected (with backoff), ctx ends or the
// credential is refused.
func (a *Agent) connect(ctx context.Context, closed chan<- error) error {
	url, opts, err := a.options()
	if err != nil {
		return err
	}
	opts = append(opts,
		nats.ClosedHandler(func(nc *nats.Conn) {
			err := nc.LastError()
			if isAuthError(err) {
				err = fmt.Errorf("%w: %v", ErrRefused, err)
			} else if err == nil {
				err = errors.New("connection to the server closed")
			}
			select {
			case closed <- err:
			default:
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { a.cfg.Log.Info("reconnected", "server", a.cfg.Server); a.heartbeat() }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { a.cfg.Log.Warn("server said", "err", err) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { a.cfg.Log.Warn("disconnected", "server", a.cfg.Server, "err", err) }),
	)
	for attempt := 0; ; attempt++ {
		nc, err := nats.Connect(url, opts...)
		if err == nil {
			a.conn = nc
			a.cfg.Log.Info("connected", "server", a.cfg.Server, "agent", a.name)
			return nil
		}
		if isAuthError(err) {
			return fmt.Errorf("%w: %v", ErrRefused, err)
		}
		wait := a.backoff(attempt)
		a.cfg.Log.Warn("connecting", "server", a.cfg.Server, "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return fmt.Errorf("connecting to %s: %w", a.cfg.Server, err)
		case <-time.After(wait):
		}
	}
}

func isAuthError(err error) bool {
	return err != nil && (errors.Is(err, nats.ErrAuthorization) || strings.Contains(strings.ToLower(err.Error()), "authorization violation"))
}

// backoff is the wait before attempt n+1: doubling from 250 ms up to
// MaxBackoff, with jitter so that many agents do not return at once.
func (a *Agent) backoff(n int) time.Duration {
	d := 250 * time.Millisecond << min(n, 16)
	d = min(d, a.cfg.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// options turn the server URL into a NATS URL and options.
func (a *Agent) options() (string, []nats.Option, error) {
	opts := []nats.Option{nats.Token(a.cfg.Token), nats.Name("dnsscience-agent " + a.name),
		nats.MaxReconnects(-1), nats.ReconnectBufSize(8 << 20), nats.IgnoreDiscoveredServers(),
		nats.CustomReconnectDelay(a.backoff), nats.PingInterval(a.cfg.Heartbeat * 2), nats.MaxPingsOutstanding(3),
		nats.Timeout(10 * time.Second)}
	u := a.cfg.Server
	switch {
	case strings.HasPrefix(u, "nats://"), strings.HasPrefix(u, "tls://"):
		return u, append(opts, nats.SetCustomDialer(ctxDialer{dial: a.cfg.Dial})), nil
	case strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "https://"):
		d, err := newWSDialer(u, a.cfg.Dial)
		if err != nil {
			return "", nil, err
		}
		a.ws = d
		// The NATS URL only names the server; the dialer opens the WebSocket.
		return "nats://" + d.host, append(opts, nats.SetCustomDialer(d)), nil
	}
	return "", nil, fmt.Errorf("--server %q: want http(s)://host[:port] (the server's URL) or nats://host:port", u)
}
