// Package server is the dnsscience HTTP face: the JSON API over the
// engines, live streams, health, metrics and the OpenAPI description. It
// renders and stores results; every measurement runs through the same
// engine calls as the CLI.
package server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/dnsscience/dnsscience/internal/bus"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/enrich"
	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/monitor"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/ratelimit"
	"github.com/dnsscience/dnsscience/internal/runner"
	"github.com/dnsscience/dnsscience/internal/scan"
	"github.com/dnsscience/dnsscience/internal/store"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

// Location is a place measurements can run from.
type Location = runner.Location

// Config is what the server needs to know; the zero value of each field is
// a documented default.
type Config struct {
	// Version is reported by /health and the build info metric.
	Version string
	// Locations lists where measurements run; empty means one "local"
	// location. The first runs here unless Dispatchers says otherwise.
	Locations []Location
	// Dispatchers run measurements per location id (agents); a location
	// without one, other than the first, is offline.
	Dispatchers map[string]runner.Dispatcher
	// Agents is the bus remote locations connect to; nil means none.
	Agents *bus.Bus
	// Upstream resolves names for the DNS endpoints; empty means the first
	// server of /etc/resolv.conf.
	Upstream []dnsq.Server
	// Resolvers are the resolvers propagation checks ask; empty means the shipped list.
	Resolvers []dnsq.Resolver
	// TrustedProxies may set X-Forwarded-For.
	TrustedProxies []netip.Prefix
	// CORSOrigins allowed to call the API ("*" for any); empty means none.
	CORSOrigins []string
	// RateLimits per class (dns, trace, ...); nil means DefaultRateLimits.
	RateLimits []ratelimit.Policy
	// KeyScale multiplies quotas for API key holders; 0 means 10.
	KeyScale int
	// IPv6Prefix is how many leading bits of an IPv6 client address make
	// one client for rate limits and queues; 0 means 64.
	IPv6Prefix int
	// Timeouts of HTTP exchanges (HTTPServer); zero fields are defaults.
	Timeouts Timeouts
	// MaxConnsPerClient caps one client's open connections (Listener);
	// 0 means 64.
	MaxConnsPerClient int
	// ClientShare bounds the workers one client holds; 0 means a quarter
	// of Workers.
	ClientShare int
	// ClientQueue bounds one client's measurements waiting or running
	// (more are refused with 429); 0 means 64.
	ClientQueue int
	// MaxBodyBytes bounds request bodies; 0 means 64 KiB.
	MaxBodyBytes int64
	// TLS tells the server it is served over TLS (adds HSTS).
	TLS bool
	// DNSTimeout bounds each upstream query; 0 means 3 s.
	DNSTimeout time.Duration
	// DataDir is checked for free space by /ready; empty skips the check.
	DataDir string
	// MinFreeBytes is the free-space floor of DataDir; 0 means 100 MiB.
	MinFreeBytes uint64
	// MaxHeapBytes makes /ready fail above this heap size; 0 means no ceiling.
	MaxHeapBytes uint64
	// ReadyChecks are added to /ready (database, geo data, privileges ...).
	ReadyChecks []ReadyCheck
	// Store keeps measurements and API keys. Required.
	Store *store.Store
	// Policy decides which targets measurements may reach; nil means
	// netpolicy.Default() (no private, loopback, metadata ... addresses).
	Policy *netpolicy.Policy
	// Workers bounds the measurements running at once; 0 means 32.
	Workers int
	// RootCAs verifies TLS in probes; nil means the system roots.
	RootCAs *x509.CertPool
	// Tracer runs delegation traces for diagnose; nil means the shipped roots.
	Tracer *dnsq.Tracer
	// Geo enriches addresses (trace hops, the geo endpoints); nil means no
	// data (special-purpose ranges are still labelled).
	Geo *geo.DB
	// UnprivilegedTrace uses datagram sockets for traces even as root.
	UnprivilegedTrace bool
	// TileURL is a raster tile URL template ({z}/{x}/{y}) the map pages
	// draw over the offline country outlines; empty means offline only.
	TileURL string
	// TileAttribution is shown on the map when TileURL is set.
	TileAttribution string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Monitor watches checks (serve --checks); nil means monitoring is off.
	Monitor *monitor.Monitor
	// ServerID and ServerLease name this process among servers sharing the
	// store (runner.Config); empty and 0 are the runner's defaults.
	ServerID    string
	ServerLease time.Duration
}

// DefaultRateLimits are the quotas per client (API key or IP) and class:
// traceroute 10 a minute, as the platform this replaces had; DNS much higher.
func DefaultRateLimits() (classes []ratelimit.Policy, fallback ratelimit.Policy) {
	return []ratelimit.Policy{
		{Name: "dns", Limit: 600, Window: time.Minute},
		{Name: "scan", Limit: 60, Window: time.Minute},
		{Name: "geo", Limit: 600, Window: time.Minute},
		{Name: "propagation", Limit: 30, Window: time.Minute},
		{Name: "trace", Limit: 10, Window: time.Minute},
		{Name: "diagnose", Limit: 10, Window: time.Minute},
	}, ratelimit.Policy{Name: "default", Limit: 60, Window: time.Minute}
}

// Server serves the API. Build it with New.
type Server struct {
	cfg       Config
	log       *slog.Logger
	metrics   *metrics
	limiter   limiter
	client    *dnsq.Client
	dnsCache  *ttlCache[dnsEntry]
	doneCache *ttlCache[doneEntry]
	scanCache *ttlCache[scan.Scan]
	started   time.Time
	mux       *http.ServeMux

	store  *store.Store
	geo    *geo.DB
	tracer *traceroute.Tracer
	// svc is the measurement service every face of this process shares.
	svc *runner.Service
	// gql is the GraphQL face over svc.
	gql http.Handler
}

// New builds a server from its configuration.
func New(cfg Config, log *slog.Logger) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.KeyScale == 0 {
		cfg.KeyScale = 10
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.Store == nil {
		return nil, errors.New("server: a store is required")
	}
	bits, err := ipv6Prefix(cfg.IPv6Prefix)
	if err != nil {
		return nil, err
	}
	cfg.IPv6Prefix = bits
	cfg.Timeouts = cfg.Timeouts.withDefaults()
	if cfg.MaxConnsPerClient == 0 {
		cfg.MaxConnsPerClient = 64
	}
	if cfg.Policy == nil {
		cfg.Policy = netpolicy.Default()
	}
	if cfg.Workers == 0 {
		cfg.Workers = 32
	}
	if cfg.Geo == nil {
		cfg.Geo = emptyGeo()
	}
	if cfg.DNSTimeout == 0 {
		cfg.DNSTimeout = 3 * time.Second
	}
	if len(cfg.Resolvers) == 0 {
		cfg.Resolvers = dnsq.ShippedResolvers()
	}
	if len(cfg.Upstream) == 0 {
		sys, err := dnsq.SystemServers("")
		if err != nil {
			return nil, fmt.Errorf("choosing an upstream resolver: %w", err)
		}
		cfg.Upstream = sys
	}
	classes, fallback := DefaultRateLimits()
	if cfg.RateLimits != nil {
		classes = cfg.RateLimits
	}
	lim, err := ratelimit.New(classes, fallback, cfg.Now)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg: cfg, log: log, metrics: newMetrics(cfg.Version), limiter: lim,
		client:    &dnsq.Client{Timeout: cfg.DNSTimeout, Tries: 2},
		dnsCache:  newTTLCache[dnsEntry](10000, cfg.Now),
		doneCache: newTTLCache[doneEntry](doneCacheEntries, cfg.Now),
		scanCache: newTTLCache[scan.Scan](1000, cfg.Now),
		started:   cfg.Now(),
		mux:       http.NewServeMux(),
		store:     cfg.Store,
		geo:       cfg.Geo,
		tracer:    &traceroute.Tracer{Unprivileged: cfg.UnprivilegedTrace},
	}
	rc := runner.Config{Store: cfg.Store, Env: s.measureEnv(), Locations: cfg.Locations, Dispatchers: cfg.Dispatchers,
		Workers: cfg.Workers, ClientShare: cfg.ClientShare, ClientQueue: cfg.ClientQueue, Now: cfg.Now, Log: log, Observe: s.metrics.observeRun,
		ServerID: cfg.ServerID, Lease: cfg.ServerLease}
	if cfg.Agents != nil {
		rc.Remote, rc.Relay = cfg.Agents, cfg.Agents.Relay()
	}
	svc, err := runner.New(rc)
	if err != nil {
		return nil, err
	}
	s.svc = svc
	s.shareLimits(lim) // sharedlimits.go
	s.cfg.ReadyChecks = append([]ReadyCheck{{Name: "database", Check: cfg.Store.Ping}}, s.cfg.ReadyChecks...)
	cfg.Store.SetObserver(func(op string, d time.Duration) { s.metrics.store.WithLabelValues(op).Observe(d.Seconds()) })
	s.attachMonitor()
	if s.gql, err = s.newGraphQL(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// measureEnv is what local measurements run with: the target policy at
// dial time, the server's own resolvers (trusted), its resolver list, CA
// pool, shared tracer and geo data.
func (s *Server) measureEnv() *measure.Env {
	return &measure.Env{Dialer: s.cfg.Policy.Dialer(), Policy: s.cfg.Policy, Upstream: s.cfg.Upstream,
		Resolvers: s.cfg.Resolvers, DNSTimeout: s.cfg.DNSTimeout, RootCAs: s.cfg.RootCAs, Tracer: s.tracer,
		Delegation: s.cfg.Tracer, Geo: func() *geo.DB { return s.geo }, Source: s.source(),
		MaxTraceProbes: 64 * 5 * 16}
}

// source is this server's own location (the first), when its coordinates
// are known.
func (s *Server) source() *enrich.LatLon {
	if len(s.cfg.Locations) == 0 || !s.cfg.Locations[0].Located() {
		return nil
	}
	l := s.cfg.Locations[0]
	return &enrich.LatLon{Lat: *l.Latitude, Lon: *l.Longitude}
}

// Shutdown stops running measurements (they are stored as failed with the
// reason) and waits for them, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.svc.Shutdown(ctx); err != nil {
		return err
	}
	return s.tracer.Close()
}

// Service is the measurement service behind the API, for the other faces
// of the process (the monitor, GraphQL).
func (s *Server) Service() *runner.Service { return s.svc }

// Handler is the whole server as an http.Handler.
func (s *Server) Handler() http.Handler { return s.middleware(s.mux) }
