package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/maintenance"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/ratelimit"
	"github.com/dnsscience/dnsscience/internal/server"
	"github.com/dnsscience/dnsscience/internal/store"
)

// serveOptions are the serve command's flags; a config file sets the same
// fields, flags given on the command line win, and DNSSCIENCE_* environment
// variables fill what neither set.
type serveOptions struct {
	Listen         string            `yaml:"listen"`
	DataDir        string            `yaml:"data"`
	DB             string            `yaml:"db"`
	Upstream       []string          `yaml:"upstream"`
	TrustedProxies []string          `yaml:"trusted_proxies"`
	CORSOrigins    []string          `yaml:"cors_origins"`
	Allow          []string          `yaml:"allow"`
	TLSCert        string            `yaml:"tls_cert"`
	TLSKey         string            `yaml:"tls_key"`
	Locations      []server.Location `yaml:"locations"`
	ResolversFile  string            `yaml:"resolvers"`
	Retention      string            `yaml:"retention"`
	BackupDaily    bool              `yaml:"backup_daily"`
	BackupKeep     int               `yaml:"backup_keep"`
	RedirectHTTP   string            `yaml:"redirect_http"`
	TileURL        string            `yaml:"tile_url"`
	TileAttr       string            `yaml:"tile_attribution"`
	RateLimits     []string          `yaml:"rate_limits"`
	LogLevel       string            `yaml:"log_level"`
	config         string
	agents         agentsServeFlags
}

func newServeCmd(e *env) *cobra.Command {
	o := &serveOptions{}
	var g geoFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the dnsscience server: web UI, API, live streams, metrics",
		Long: `Run the HTTP server: the web UI (/, /visualtrace, API docs at /api/docs),
the JSON API (OpenAPI at /api/openapi.json), /health,
/ready and /metrics. Embedded defaults: everything in one process, data in
--data. Logs are JSON lines on stderr.

Settings come from flags, then --config FILE (YAML, the same names), then
environment variables DNSSCIENCE_LISTEN, DNSSCIENCE_DATA, DNSSCIENCE_DB.`,
		Example: `  dnsscience serve
  dnsscience serve --listen :8443 --tls-cert cert.pem --tls-key key.pem
  dnsscience serve --config /etc/dnsscience.yaml --allow 10.20.0.0/16
  dnsscience serve --rate-limit dns=6000/1m --rate-limit trace=30/1h --log-level warn`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.load(cmd); err != nil {
				return usageErr("%v", err)
			}
			return runServe(cmd.Context(), e, o, &g)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&o.DataDir, "data", "data", "data directory (database, backups)")
	f.StringVar(&o.DB, "db", "", "database URL: sqlite path (default DATA/dnsscience.db) or postgres://...")
	f.StringArrayVar(&o.Upstream, "upstream", nil, "resolver for the DNS endpoints (default: /etc/resolv.conf)")
	f.StringArrayVar(&o.TrustedProxies, "trusted-proxy", nil, "CIDR of a proxy allowed to set X-Forwarded-For (repeatable)")
	f.StringArrayVar(&o.CORSOrigins, "cors-origin", nil, "origin allowed to call the API, or * (repeatable)")
	f.StringArrayVar(&o.Allow, "allow", nil, "CIDR the target policy allows although private (repeatable)")
	f.StringVar(&o.TLSCert, "tls-cert", "", "TLS certificate file (PEM)")
	f.StringVar(&o.TLSKey, "tls-key", "", "TLS key file (PEM)")
	f.StringVar(&o.ResolversFile, "resolvers", "", "YAML resolver list for propagation checks (default: shipped)")
	f.StringVar(&o.Retention, "retention", "90d", "delete measurements older than this (e.g. 30d, 720h; 0 keeps them)")
	f.BoolVar(&o.BackupDaily, "backup-daily", false, "take a backup a day into DATA/backups")
	f.IntVar(&o.BackupKeep, "backup-keep", 7, "daily backups to keep")
	f.StringVar(&o.RedirectHTTP, "redirect-http", "", "with TLS: also listen on this address (e.g. :80) and redirect HTTP to HTTPS")
	f.StringVar(&o.TileURL, "tile-url", "", "raster tile URL template ({z}/{x}/{y}) for the web map; default: offline country outlines only")
	f.StringVar(&o.TileAttr, "tile-attribution", "", "attribution shown on the map for --tile-url (e.g. \"© OpenStreetMap contributors\")")
	f.StringArrayVar(&o.RateLimits, "rate-limit", nil, "quota per client of a class, CLASS=N/WINDOW, e.g. dns=6000/1m (repeatable; classes: "+strings.Join(server.RateLimitClasses(), ", ")+")")
	f.StringVar(&o.LogLevel, "log-level", "info", "least level logged: debug, info (logs every request), warn or error")
	f.StringVar(&o.config, "config", "", "YAML configuration file")
	g.register(f)
	o.agents.register(f)
	return cmd
}

// load merges the config file and the environment under the flags.
func (o *serveOptions) load(cmd *cobra.Command) error {
	if o.config != "" {
		b, err := os.ReadFile(o.config)
		if err != nil {
			return fmt.Errorf("reading --config: %w", err)
		}
		var file serveOptions
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&file); err != nil {
			return fmt.Errorf("config %s: %w", o.config, err)
		}
		o.merge(cmd, &file)
	}
	for flag, env := range map[string]string{"listen": "DNSSCIENCE_LISTEN", "data": "DNSSCIENCE_DATA", "db": "DNSSCIENCE_DB"} {
		if v, ok := os.LookupEnv(env); ok && !cmd.Flags().Changed(flag) && (o.config == "" || v != "") {
			_ = cmd.Flags().Set(flag, v)
		}
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if o.RedirectHTTP != "" && o.TLSCert == "" {
		return errors.New("--redirect-http needs --tls-cert and --tls-key (it redirects to the HTTPS listener)")
	}
	return nil
}

// merge copies file settings into o where no flag was given.
func (o *serveOptions) merge(cmd *cobra.Command, f *serveOptions) {
	set := func(flag string, dst *string, v string) {
		if v != "" && !cmd.Flags().Changed(flag) {
			*dst = v
		}
	}
	set("listen", &o.Listen, f.Listen)
	set("data", &o.DataDir, f.DataDir)
	set("db", &o.DB, f.DB)
	set("tls-cert", &o.TLSCert, f.TLSCert)
	set("tls-key", &o.TLSKey, f.TLSKey)
	set("resolvers", &o.ResolversFile, f.ResolversFile)
	set("retention", &o.Retention, f.Retention)
	set("redirect-http", &o.RedirectHTTP, f.RedirectHTTP)
	set("tile-url", &o.TileURL, f.TileURL)
	set("tile-attribution", &o.TileAttr, f.TileAttr)
	set("log-level", &o.LogLevel, f.LogLevel)
	if f.BackupDaily && !cmd.Flags().Changed("backup-daily") {
		o.BackupDaily = true
	}
	if f.BackupKeep != 0 && !cmd.Flags().Changed("backup-keep") {
		o.BackupKeep = f.BackupKeep
	}
	o.Upstream = append(o.Upstream, f.Upstream...)
	o.TrustedProxies = append(o.TrustedProxies, f.TrustedProxies...)
	o.CORSOrigins = append(o.CORSOrigins, f.CORSOrigins...)
	o.Allow = append(o.Allow, f.Allow...)
	o.Locations = append(o.Locations, f.Locations...)
	o.RateLimits = append(f.RateLimits, o.RateLimits...) // flags come last and win
}

// config turns options into the server's configuration.
func (o *serveOptions) serverConfig() (server.Config, error) {
	cfg := server.Config{Version: Version, Locations: o.Locations, CORSOrigins: o.CORSOrigins, TLS: o.TLSCert != "", DataDir: o.DataDir,
		TileURL: o.TileURL, TileAttribution: o.TileAttr}
	for _, u := range o.Upstream {
		srv, err := dnsq.ResolveServer(u)
		if err != nil {
			return cfg, fmt.Errorf("--upstream: %w", err)
		}
		cfg.Upstream = append(cfg.Upstream, srv)
	}
	for _, p := range o.TrustedProxies {
		pre, err := netip.ParsePrefix(p)
		if err != nil {
			return cfg, fmt.Errorf("--trusted-proxy %q: want a CIDR such as 10.0.0.0/8", p)
		}
		cfg.TrustedProxies = append(cfg.TrustedProxies, pre)
	}
	policy := netpolicy.Default()
	for _, a := range o.Allow {
		pre, err := netip.ParsePrefix(a)
		if err != nil {
			return cfg, fmt.Errorf("--allow %q: want a CIDR such as 10.20.0.0/16", a)
		}
		policy = policy.Allow(pre)
	}
	cfg.Policy = policy
	if len(o.RateLimits) > 0 {
		var overrides []ratelimit.Policy
		for _, v := range o.RateLimits {
			p, err := parseRateLimit(v)
			if err != nil {
				return cfg, err
			}
			overrides = append(overrides, p)
		}
		cfg.RateLimits = server.WithRateLimits(overrides)
	}
	if o.ResolversFile != "" {
		rs, err := dnsq.LoadResolvers(o.ResolversFile)
		if err != nil {
			return cfg, err
		}
		cfg.Resolvers = rs
	}
	return cfg, nil
}

func runServe(ctx context.Context, e *env, o *serveOptions, g *geoFlags) error {
	cfg, err := o.serverConfig()
	if err != nil {
		return usageErr("%v", err)
	}
	level, err := parseLogLevel(o.LogLevel)
	if err != nil {
		return usageErr("%v", err)
	}
	retention, err := parseDays(o.Retention)
	if err != nil {
		return usageErr("--retention %q: %v", o.Retention, err)
	}
	if err := os.MkdirAll(o.DataDir, 0o750); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	dbURL := o.DB
	if dbURL == "" {
		dbURL = store.SQLiteURL(o.DataDir)
	}
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("opening the store at %s: %w", redactURL(dbURL), err)
	}
	defer st.Close()
	cfg.Store = st
	log := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	e.log = log
	geoDB, err := g.open(e)
	if err != nil {
		return fmt.Errorf("opening geo data: %w", err)
	}
	defer geoDB.Close()
	cfg.Geo = geoDB
	cfg.ReadyChecks = append(cfg.ReadyChecks, server.ReadyCheck{Name: "geo", Check: func(context.Context) error {
		if !geoDB.Loaded() {
			return errors.New("no geo data loaded: run `make geo`, or give --geo-city/--geo-asn")
		}
		return nil
	}})
	if cfg.Agents, err = o.agents.start(ctx, st, log); err != nil {
		return err
	}
	defer cfg.Agents.Close()
	srv, err := server.New(cfg, log)
	if err != nil {
		return err
	}
	maint := &maintenance.Maintenance{Store: st, Log: log, Retention: retention, BackupKeep: o.BackupKeep}
	if o.BackupDaily {
		maint.BackupDir = filepath.Join(o.DataDir, "backups")
	}
	mctx, stopMaint := context.WithCancel(ctx)
	defer stopMaint()
	go maint.Run(mctx)
	go geoDB.Watch(mctx, 0, func(err error) { log.Warn("reloading geo data", "err", err) })
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.Listen, err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	scheme := "http"
	if o.TLSCert != "" {
		scheme = "https"
	}
	abs, _ := filepath.Abs(o.DataDir)
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
		rs, err := redirectServer(o.RedirectHTTP, ln.Addr().String())
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

// parseDays parses a duration that may use a d (days) suffix: 30d, 12h, 0.
func parseDays(s string) (time.Duration, error) {
	if s == "" || s == "0" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, errors.New("want a number of days such as 30d, or a duration such as 720h")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	dur, err := time.ParseDuration(s)
	if err != nil || dur < 0 {
		return 0, errors.New("want a number of days such as 30d, or a duration such as 720h")
	}
	return dur, nil
}

// redirectServer listens on addr and answers every request with a 308 to
// the same path on the HTTPS listener.
func redirectServer(addr, httpsAddr string) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s for --redirect-http: %w", addr, err)
	}
	_, port, _ := net.SplitHostPort(httpsAddr)
	rs := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
		target := "https://" + net.JoinHostPort(host, port) + r.URL.RequestURI()
		if port == "443" {
			target = "https://" + host + r.URL.RequestURI()
		}
		http.Redirect(w, r, target, http.StatusPermanentRedirect)
	})}
	go func() { _ = rs.Serve(ln) }()
	return rs, nil
}
