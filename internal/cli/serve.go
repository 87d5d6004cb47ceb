package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/server"
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
	config         string
}

func newServeCmd(e *env) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the dnsscience server: API, live streams, metrics",
		Long: `Run the HTTP server: the JSON API (OpenAPI at /api/openapi.json), /health,
/ready and /metrics. Embedded defaults: everything in one process, data in
--data. Logs are JSON lines on stderr.

Settings come from flags, then --config FILE (YAML, the same names), then
environment variables DNSSCIENCE_LISTEN, DNSSCIENCE_DATA, DNSSCIENCE_DB.`,
		Example: `  dnsscience serve
  dnsscience serve --listen :8443 --tls-cert cert.pem --tls-key key.pem
  dnsscience serve --config /etc/dnsscience.yaml --allow 10.20.0.0/16`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.load(cmd); err != nil {
				return usageErr("%v", err)
			}
			return runServe(cmd.Context(), e, o)
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
	f.StringVar(&o.config, "config", "", "YAML configuration file")
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
		dec := yaml.NewDecoder(bytesReader(b))
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
	o.Upstream = append(o.Upstream, f.Upstream...)
	o.TrustedProxies = append(o.TrustedProxies, f.TrustedProxies...)
	o.CORSOrigins = append(o.CORSOrigins, f.CORSOrigins...)
	o.Allow = append(o.Allow, f.Allow...)
	o.Locations = append(o.Locations, f.Locations...)
}

// config turns options into the server's configuration.
func (o *serveOptions) serverConfig() (server.Config, error) {
	cfg := server.Config{Version: Version, Locations: o.Locations, CORSOrigins: o.CORSOrigins, TLS: o.TLSCert != "", DataDir: o.DataDir}
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
	if o.ResolversFile != "" {
		rs, err := dnsq.LoadResolvers(o.ResolversFile)
		if err != nil {
			return cfg, err
		}
		cfg.Resolvers = rs
	}
	return cfg, nil
}

func runServe(ctx context.Context, e *env, o *serveOptions) error {
	cfg, err := o.serverConfig()
	if err != nil {
		return usageErr("%v", err)
	}
	if err := os.MkdirAll(o.DataDir, 0o750); err != nil {
		return fmt.Errorf("creating data directory: %w", err)
	}
	log := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := server.New(cfg, log)
	if err != nil {
		return err
	}
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
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}
