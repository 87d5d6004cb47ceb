package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/config"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/maintenance"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/server"
)

func newServeCmd(e *env) *cobra.Command {
	var flags *config.Flags
	var mon *monitorFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the dnsscience server: web UI, API, live streams, metrics",
		Long: `Run the HTTP server: the web UI (/, /visualtrace, API docs at /api/docs),
the JSON API (OpenAPI at /api/openapi.json), /health,
/ready and /metrics. Embedded defaults: everything in one process, data in
--data. Logs are JSON lines on stderr.

Every setting has a flag, a DNSSCIENCE_* environment variable and a key in
the --config FILE (YAML); flags win over the environment, which wins over
the file, which wins over the defaults (README: Configuration).`,
		Example: `  dnsscience serve
  dnsscience serve --listen :8443 --tls-cert cert.pem --tls-key key.pem
  dnsscience serve --config /etc/dnsscience.yaml --allow 10.20.0.0/16
  dnsscience serve --rate-limit dns=6000/1m --rate-limit trace=30/1h --log-level warn`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := flags.Load(os.LookupEnv)
			if err != nil {
				return usageErr("%v", err)
			}
			return runServe(cmd.Context(), e, o, mon)
		},
	}
	f := cmd.Flags()
	flags = config.Register(f)
	mon = registerMonitorFlags(f) // serve_monitor.go
	return cmd
}

// serverConfig turns the configuration into the server's.
func serverConfig(o *config.Server) (server.Config, error) {
	cfg := server.Config{Version: Version, CORSOrigins: o.CORSOrigins, TLS: o.TLSCert != "", DataDir: o.Data,
		TileURL: o.TileURL, TileAttribution: o.TileAttr, Upstream: o.Upstream, TrustedProxies: o.TrustedProxies}
	policy := netpolicy.Default()
	for _, pre := range o.Allow {
		policy = policy.Allow(pre)
	}
	cfg.Policy = policy
	if len(o.RateLimits) > 0 {
		cfg.RateLimits = server.WithRateLimits(o.RateLimits)
	}
	if o.Resolvers != "" {
		rs, err := dnsq.LoadResolvers(o.Resolvers)
		if err != nil {
			return cfg, err
		}
		cfg.Resolvers = rs
	}
	return cfg, nil
}

func runServe(ctx context.Context, e *env, o *config.Server, mon *monitorFlags) error {
	cfg, err := serverConfig(o)
	if err != nil {
		return usageErr("%v", err)
	}
	if err := os.MkdirAll(o.Data, 0o750); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	st, err := openStore(ctx, o.StoreURL(), false)
	if err != nil {
		return err
	}
	defer st.Close()
	cfg.Store = st
	log := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: o.LogLevel}))
	e.log = log
	if cfg.ServerID, err = o.ResolveServerID(); err != nil {
		return err
	}
	cfg.ServerLease = o.ServerLease
	log.Info("server id", "id", cfg.ServerID)
	g := geoFlags{data: o.GeoData, city: o.GeoCity, asn: o.GeoASN, overrides: o.GeoOverrides}
	geoDB, err := g.open(e)
	if err != nil {
		return fmt.Errorf("opening geo data: %w", err)
	}
	defer geoDB.Close()
	cfg.Geo = geoDB
	var how string
	cfg.Locations, how = o.AllLocations(geoDB)
	log.Info("own location", "id", cfg.Locations[0].ID, "coordinates", how)
	cfg.ReadyChecks = append(cfg.ReadyChecks, server.ReadyCheck{Name: "geo", Check: func(context.Context) error {
		if !geoDB.Loaded() {
			return errors.New("no geo data loaded: run `make geo`, or give --geo-city/--geo-asn")
		}
		return nil
	}})
	if cfg.Monitor, err = mon.open(ctx, log, st, cfg.Policy); err != nil {
		return usageErr("%v", err)
	}
	if cfg.Agents, err = startAgents(ctx, o.NATS, st, geoDB, log); err != nil {
		return err
	}
	defer cfg.Agents.Close()
	srv, err := server.New(cfg, log)
	if err != nil {
		return err
	}
	defer mon.start(ctx, cfg.Monitor)()
	maint := &maintenance.Maintenance{Store: st, Log: log, Retention: o.Retention, BackupKeep: o.BackupKeep}
	if o.BackupDaily {
		maint.BackupDir = filepath.Join(o.Data, "backups")
	}
	mctx, stopMaint := context.WithCancel(ctx)
	defer stopMaint()
	go maint.Run(mctx)
	startWatch(mctx, o, st, cfg.Policy, log)
	if _, err := startDebug(mctx, o.DebugListen, log); err != nil {
		return err
	}
	go geoDB.Watch(mctx, 0, func(err error) { log.Warn("reloading geo data", "err", err) })
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.Listen, err)
	}
	ln, hs := srv.Listener(ln), srv.HTTPServer(slog.NewLogLogger(log.Handler(), slog.LevelWarn))
	scheme := "http"
	if o.TLSCert != "" {
		scheme = "https"
	}
	abs, _ := filepath.Abs(o.Data)
	log.Info("serving", "url", fmt.Sprintf("%s://%s/", scheme, ln.Addr()), "data", abs, "version", Version)
	fmt.Fprintf(e.stdout, "dnsscience serving on %s://%s/ (data in %s)\n", scheme, ln.Addr(), abs)
	errc := make(chan error, 1)
	go func() {
		if o.TLSCert != "" {
			errc <- hs.ServeTLS(ln, o.TLSCert, o.TLSKey)
		} else {
			errc <- hs.Serve(ln)
		}
	}()
	if o.RedirectHTTP != "" {
		rs, err := redirectServer(o.RedirectHTTP, ln.Addr().String(), o.TLSCert, o.TLSKey)
		if err != nil {
			return err
		}
		defer rs.Close()
		log.Info("redirecting HTTP to HTTPS", "listen", o.RedirectHTTP)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	// Measurements stop first (stored as failed, streams told), then HTTP.
	measErr := srv.Shutdown(sctx)
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return measErr
}

// redirectServer listens on addr and answers every request with a 308 to
// the same path on the HTTPS listener, for the certificate's names.
func redirectServer(addr, httpsAddr, certFile, keyFile string) (*http.Server, error) {
	h, err := server.RedirectToHTTPS(certFile, keyFile, httpsAddr)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s for --redirect-http: %w", addr, err)
	}
	rs := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: h}
	go func() { _ = rs.Serve(ln) }()
	return rs, nil
}
