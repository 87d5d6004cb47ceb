// Package bus is the server side of agents: an embedded NATS server that
// agents reach through the HTTP server's WebSocket endpoint (outbound
// connections only), per-agent credentials with subject permissions, the
// registry of agents and their heartbeats, and the Dispatcher that runs a
// measurement on an agent. With an external NATS URL, several servers
// share agents: each keeps its embedded server for the agents connected to
// it and bridges their subjects to the shared cluster.
package bus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/store"
)

// Agents is what the bus needs from the store.
type Agents interface {
	AuthenticateAgent(ctx context.Context, token string) (*store.Agent, error)
	ListAgents(ctx context.Context) ([]store.Agent, error)
	SeenAgent(ctx context.Context, a store.Agent) error
}

// Config configures a Bus; zero values are documented defaults.
type Config struct {
	// Store authenticates agents and keeps what they announced. Required.
	Store Agents
	// External is a NATS URL (nats://host:4222) shared by several servers;
	// empty means this process's embedded server only.
	External string
	// Sweep is how often agents' heartbeats are checked and the agent
	// list is re-read (revocations by other processes); 0 means 1 s.
	Sweep time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Geo places agents that announce no coordinates from the geo data
	// for their address; nil leaves them unplaced.
	Geo func() *geo.DB
	// Log receives background errors; nil discards them.
	Log *slog.Logger
}

// Bus is the embedded NATS server, its connections and the agents'
// registry. Build it with Start; Close it.
type Bus struct {
	cfg    Config
	ns     *natsserver.Server
	auth   *authenticator
	local  *nats.Conn // to the embedded server, as the server itself
	shared *nats.Conn // where dispatchers and the registry talk: local or External
	reg    *registry
	stop   context.CancelFunc
	wg     sync.WaitGroup
}

// Start starts the embedded server and, with External, the bridge.
func Start(ctx context.Context, cfg Config) (*Bus, error) {
	if cfg.Store == nil {
		return nil, errors.New("bus: a store is required")
	}
	if cfg.Sweep == 0 {
		cfg.Sweep = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	b := &Bus{cfg: cfg, auth: newAuthenticator(cfg.Store, hex.EncodeToString(secret))}
	opts := &natsserver.Options{ServerName: "dnsscience", DontListen: true, NoSigs: true, NoLog: true,
		CustomClientAuthentication: b.auth, MaxPayload: 8 << 20, WriteDeadline: 10 * time.Second}
	ns, err := natsserver.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("starting the embedded NATS server: %w", err)
	}
	b.ns = ns
	b.auth.server = ns
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("starting the embedded NATS server: not ready after 10 s")
	}
	if err := b.connect(); err != nil {
		b.Close()
		return nil, err
	}
	rctx, stop := context.WithCancel(context.Background())
	b.stop = stop
	b.reg = newRegistry(cfg, b.shared)
	if err := b.reg.load(ctx); err != nil {
		b.Close()
		return nil, err
	}
	if err := b.subscribe(); err != nil {
		b.Close()
		return nil, err
	}
	b.wg.Add(1)
	go func() { defer b.wg.Done(); b.sweep(rctx) }()
	return b, nil
}

// connect opens the server's own connections.
func (b *Bus) connect() error {
	local, err := nats.Connect("", nats.InProcessServer(b.ns), nats.Token(b.auth.serverToken), nats.Name("dnsscience-server"),
		nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("connecting to the embedded NATS server: %w", err)
	}
	b.local, b.shared = local, local
	if b.cfg.External == "" {
		return nil
	}
	ext, err := nats.Connect(b.cfg.External, nats.Name("dnsscience-server"), nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second), nats.RetryOnFailedConnect(false))
	if err != nil {
		return fmt.Errorf("connecting to NATS at %s: %w", b.cfg.External, err)
	}
	b.shared = ext
	return b.bridge()
}

// bridge forwards agents' heartbeats and events from the embedded server
// to the shared cluster, and work and cancellations the other way (to
// whichever server the agent is connected to).
func (b *Bus) bridge() error {
	up := func(m *nats.Msg) { _ = b.shared.Publish(m.Subject, m.Data) }
	down := func(m *nats.Msg) {
		if m.Reply == "" {
			_ = b.local.Publish(m.Subject, m.Data)
			return
		}
		go func() {
			resp, err := b.local.Request(m.Subject, m.Data, workAcceptTimeout)
			if err == nil {
				_ = b.shared.Publish(m.Reply, resp.Data)
			}
		}()
	}
	for _, s := range []struct {
		conn    *nats.Conn
		subject string
		fn      nats.MsgHandler
	}{
		{b.local, "agent.*.hb", up}, {b.local, "agent.*.ev.*", up},
		{b.shared, "agent.*.work", down}, {b.shared, "agent.*.cancel", down},
	} {
		if _, err := s.conn.Subscribe(s.subject, s.fn); err != nil {
			return fmt.Errorf("bridging %s: %w", s.subject, err)
		}
	}
	return nil
}

// subscribe listens to heartbeats and revocations on the shared bus.
func (b *Bus) subscribe() error {
	if _, err := b.shared.Subscribe("agent.*.hb", b.reg.heartbeat); err != nil {
		return fmt.Errorf("subscribing to heartbeats: %w", err)
	}
	if _, err := b.shared.Subscribe(revokeSubject, func(m *nats.Msg) { b.disconnect(string(m.Data)) }); err != nil {
		return fmt.Errorf("subscribing to revocations: %w", err)
	}
	return b.shared.Flush()
}

// sweep marks agents offline when their heartbeats stop and disconnects
// agents revoked by any process.
func (b *Bus) sweep(ctx context.Context) {
	t := time.NewTicker(b.cfg.Sweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		revoked, err := b.reg.refresh(ctx)
		if err != nil {
			b.cfg.Log.Warn("reading agents", "err", err)
		}
		for _, name := range revoked {
			b.disconnect(name)
		}
	}
}

// Revoked disconnects a revoked agent from every server on the bus (the
// store must already say it is revoked, so it cannot come back).
func (b *Bus) Revoked(name string) error {
	b.reg.forget(name)
	if err := b.shared.Publish(revokeSubject, []byte(name)); err != nil {
		return fmt.Errorf("announcing the revocation of %s: %w", name, err)
	}
	return b.shared.Flush()
}

// disconnect closes this server's connections of an agent.
func (b *Bus) disconnect(name string) {
	b.reg.forget(name)
	for _, id := range b.auth.clients(name) {
		_ = b.ns.DisconnectClientByID(id)
	}
}

// Close stops the registry, the connections and the embedded server.
func (b *Bus) Close() {
	if b.stop != nil {
		b.stop()
	}
	b.wg.Wait()
	if b.shared != nil && b.shared != b.local {
		b.shared.Close()
	}
	if b.local != nil {
		b.local.Close()
	}
	b.ns.Shutdown()
	b.ns.WaitForShutdown()
}

// JetStream is the shared NATS cluster's JetStream (for state several
// servers share, such as rate limits); ok is false without External.
func (b *Bus) JetStream() (js jetstream.JetStream, ok bool) {
	if b.cfg.External == "" || b.shared == nil {
		return nil, false
	}
	js, err := jetstream.New(b.shared)
	if err != nil {
		return nil, false
	}
	return js, true
}
