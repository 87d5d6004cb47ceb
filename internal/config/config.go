// Package config is the server's configuration: one schema (settings.go)
// read from a YAML file, DNSSCIENCE_* environment variables and command-line
// flags, with one precedence rule: flags > environment > file > defaults.
// Each setting is taken whole from the highest layer that gives it (a list
// from a higher layer replaces the lower one's). The store URL is resolved
// here for every command that opens the store (store.go), and the server's
// own location (location.go).
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/ratelimit"
	"github.com/dnsscience/dnsscience/internal/runner"
)

// EnvPrefix starts the name of every environment variable.
const EnvPrefix = "DNSSCIENCE_"

// ConfigEnv names the configuration file when --config is not given.
const ConfigEnv = EnvPrefix + "CONFIG"

// Server is the validated configuration of `dnsscience serve`. Load fills
// it; the zero value is not meaningful.
type Server struct {
	Listen         string
	Data           string
	DB             string
	Upstream       []dnsq.Server
	TrustedProxies []netip.Prefix
	CORSOrigins    []string
	Allow          []netip.Prefix
	TLSCert        string
	TLSKey         string
	Resolvers      string // YAML resolver list file; empty means the shipped list
	Retention      time.Duration
	BackupDaily    bool
	BackupKeep     int
	RedirectHTTP   string
	TileURL        string
	TileAttr       string
	RateLimits     []ratelimit.Policy // overrides of the default quotas, in order
	LogLevel       slog.Level
	// NATS is the NATS URL several servers share for agents; empty means
	// the embedded NATS server only.
	NATS string
	// ServerID names this server among those sharing the store; empty
	// means the one kept in the data directory (ServerIDIn).
	ServerID string
	// ServerLease is how long its claim on its measurements lasts unrenewed.
	ServerLease time.Duration
	// Geo data files (see cli geoFlags): a directory, or files replacing
	// its city and ASN files, and an overrides file.
	GeoData      string
	GeoCity      []string
	GeoASN       []string
	GeoOverrides string
	// PublicAddress is the server's public address, looked up in the geo
	// data for its location when no coordinates are configured.
	PublicAddress netip.Addr
	// Location is the server's own location (where "local" measurements run).
	Location runner.Location
	// Locations are the other configured locations (offline until an agent
	// serves them).
	Locations []runner.Location
	// WatchDomains are snapshotted every WatchEvery (snapshot.Watcher).
	WatchDomains []string
	WatchEvery   time.Duration
	// DebugListen is the loopback address serving /debug/pprof/; empty
	// means none.
	DebugListen string

	origin   map[string]origin // setting key → where its value came from
	locWhere map[string]string // location id → where it was configured
}

// Layers, lowest first; a setting keeps the value of the highest.
const (
	layerDefault = iota
	layerFile
	layerEnv
	layerFlag
)

type origin struct {
	layer int
	where string // "FILE:LINE: key", "$ENV", "--flag", "default"
}

// Flags are the command-line flags of the settings a command takes.
type Flags struct {
	fs       *pflag.FlagSet
	settings []*setting
	values   map[string]*flagValue
	config   string
}

// Register adds --config and the flags of the settings with the given keys
// (all settings when none) to fs.
func Register(fs *pflag.FlagSet, keys ...string) *Flags {
	f := &Flags{fs: fs, values: map[string]*flagValue{}}
	for _, st := range settings() {
		if len(keys) > 0 && !slices.Contains(keys, st.key) {
			continue
		}
		f.settings = append(f.settings, st)
		if st.flag == "" {
			continue
		}
		v := &flagValue{list: st.list, typ: st.typ, split: st.typ == "strings"}
		if st.def != "" {
			v.vals = []string{st.def}
		}
		f.values[st.key] = v
		fl := fs.VarPF(v, st.flag, "", st.doc+" (env "+st.env()+")")
		if st.typ == "bool" {
			fl.NoOptDefVal = "true"
		}
	}
	fs.StringVar(&f.config, "config", "", "YAML configuration file with the same settings (env "+ConfigEnv+")")
	return f
}

// Load builds the configuration: defaults, then the file (--config, else
// $DNSSCIENCE_CONFIG), then the environment, then the flags given. lookup is
// os.LookupEnv in production. Only the registered settings are read from the
// environment and flags; the file is checked whole.
func (f *Flags) Load(lookup func(string) (string, bool)) (*Server, error) {
	s, err := defaults()
	if err != nil {
		return nil, err
	}
	path := f.config
	if path == "" {
		path, _ = lookup(ConfigEnv)
	}
	if path != "" {
		if err := s.readFile(path); err != nil {
			return nil, err
		}
	}
	for _, st := range f.settings {
		if err := s.fromEnv(st, lookup); err != nil {
			return nil, err
		}
	}
	for _, st := range f.settings {
		if fl := f.fs.Lookup(st.flag); st.flag != "" && fl != nil && fl.Changed {
			if err := s.apply(st, f.values[st.key].vals, layerFlag, "--"+st.flag, nil); err != nil {
				return nil, err
			}
		}
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// defaults is the configuration before any file, variable or flag.
func defaults() (*Server, error) {
	s := &Server{origin: map[string]origin{}, locWhere: map[string]string{}}
	for _, st := range settings() {
		if st.reset != nil {
			st.reset(s)
		}
		if st.def != "" {
			if err := st.set(s, st.def); err != nil {
				return nil, fmt.Errorf("default of %s: %w", st.key, err) // a bug in settings.go
			}
		}
		s.origin[st.key] = origin{layerDefault, "default"}
	}
	return s, nil
}

// fromEnv applies the setting's environment variable when it is set and not
// empty. Lists are comma-separated.
func (s *Server) fromEnv(st *setting, lookup func(string) (string, bool)) error {
	v, ok := lookup(st.env())
	if !ok || v == "" {
		return nil
	}
	if st.node != nil {
		return s.applyNodeText(st, v, layerEnv, "$"+st.env())
	}
	vals := []string{v}
	if st.list {
		vals = nil
		sep := st.sep
		if sep == "" {
			sep = ","
		}
		for _, item := range strings.Split(v, sep) {
			if item = strings.TrimSpace(item); item != "" {
				vals = append(vals, item)
			}
		}
	}
	return s.apply(st, vals, layerEnv, "$"+st.env(), nil)
}

// apply stores vals (one unless a list) as the setting's value from layer;
// lines, when given, are the file lines of each value for errors.
func (s *Server) apply(st *setting, vals []string, layer int, where string, lines []string) error {
	if st.reset != nil {
		st.reset(s)
	}
	for i, v := range vals {
		if err := st.set(s, v); err != nil {
			w := where
			if lines != nil {
				w = lines[i]
			}
			return fmt.Errorf("%s %q: %w", w, v, err)
		}
	}
	s.origin[st.key] = origin{layer, where}
	return nil
}

// Origin says where a setting's value came from: "default", "--flag",
// "$DNSSCIENCE_X" or "FILE:LINE: key".
func (s *Server) Origin(key string) string { return s.origin[key].where }

// check validates what involves several settings.
func (s *Server) check() error {
	var errs []error
	if (s.TLSCert == "") != (s.TLSKey == "") {
		set, unset := "tls_cert", "tls_key"
		if s.TLSCert == "" {
			set, unset = unset, set
		}
		errs = append(errs, fmt.Errorf("%s is set without %s: give both or neither", s.Origin(set), s.names(unset)))
	}
	if s.RedirectHTTP != "" && s.TLSCert == "" {
		errs = append(errs, fmt.Errorf("%s needs tls_cert and tls_key: it redirects to the HTTPS listener", s.Origin("redirect_http")))
	}
	if (s.Location.Latitude == nil) != (s.Location.Longitude == nil) {
		set, unset := "location.latitude", "location.longitude"
		if s.Location.Latitude == nil {
			set, unset = unset, set
		}
		errs = append(errs, fmt.Errorf("%s is set without %s: give both, or neither to take them from the geo data for public_address", s.Origin(set), s.names(unset)))
	}
	for _, l := range s.Locations {
		if l.ID == s.Location.ID {
			errs = append(errs, fmt.Errorf("%s: id %q is the server's own location (location.id); give another", s.locWhere[l.ID], l.ID))
		}
	}
	return errors.Join(errs...)
}

// names lists the key, flag and environment variable of a setting.
func (s *Server) names(key string) string {
	st := lookupSetting(key)
	return fmt.Sprintf("%s (--%s, $%s)", key, st.flag, st.env())
}

// flagValue is a flag of any setting, kept as the text given; list flags
// are repeatable.
type flagValue struct {
	vals  []string
	list  bool
	split bool // comma-separated items
	typ   string
	set   bool
}

func (v *flagValue) String() string { return strings.Join(v.vals, ",") }

func (v *flagValue) Set(s string) error {
	if !v.list || !v.set {
		v.vals = nil
	}
	v.set = true
	if v.split {
		v.vals = append(v.vals, strings.Split(s, ",")...)
		return nil
	}
	v.vals = append(v.vals, s)
	return nil
}

func (v *flagValue) Type() string { return v.typ }
