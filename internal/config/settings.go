package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// setting is one configuration setting: its YAML key (location.X for a key
// of the location block), flag, default and how a value is parsed. Its
// environment variable is DNSSCIENCE_ and the key in capitals, '.' as '_'.
type setting struct {
	key  string
	flag string // without the dashes; empty for none
	def  string // default, as a flag would give it
	typ  string // string, int, bool, float, stringArray (a repeatable flag), strings (repeatable, comma-separated)
	list bool
	sep  string // separates a list's items in the environment; "" means ","
	doc  string
	// set parses one value (one item of a list) into s; its error says
	// what is accepted.
	set   func(s *Server, v string) error
	reset func(s *Server) // empties a list before a layer sets it
	// node decodes a structured setting (locations) from YAML; its text
	// form in the environment is YAML too.
	node func(s *Server, n *yaml.Node, where string) error
}

func (st *setting) env() string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(st.key, ".", "_"))
}

// Setting describes one setting for documentation.
type Setting struct {
	Key, Flag, Env, Default, Doc string
	List                         bool
}

// Settings lists every setting, in the order of the README's table.
func Settings() []Setting {
	var out []Setting
	for _, st := range settings() {
		flag := ""
		if st.flag != "" {
			flag = "--" + st.flag
		}
		out = append(out, Setting{Key: st.key, Flag: flag, Env: st.env(), Default: st.def, Doc: st.doc, List: st.list || st.node != nil})
	}
	return out
}

func settings() []*setting {
	return []*setting{
		{key: "listen", flag: "listen", def: "127.0.0.1:8080", typ: "string", doc: "address to listen on, host:port", set: hostPort(func(s *Server) *string { return &s.Listen })},
		{key: "data", flag: "data", def: "data", typ: "string", doc: "data directory: the SQLite store dnsscience.db (unless db is set) and daily backups", set: text(func(s *Server) *string { return &s.Data })},
		{key: "db", flag: "db", typ: "string", doc: "store URL: postgres://user@host/db, sqlite:///path/file.db or a file path (default: the SQLite file in data)", set: text(func(s *Server) *string { return &s.DB })},
		{key: "upstream", flag: "upstream", typ: "stringArray", list: true, doc: "resolver for the DNS endpoints, by name or address (default: /etc/resolv.conf)",
			reset: func(s *Server) { s.Upstream = nil }, set: func(s *Server, v string) error {
				srv, err := dnsq.ResolveServer(v)
				if err != nil {
					return err
				}
				s.Upstream = append(s.Upstream, srv)
				return nil
			}},
		{key: "trusted_proxies", flag: "trusted-proxy", typ: "stringArray", list: true, doc: "CIDR of a proxy allowed to set X-Forwarded-For",
			reset: func(s *Server) { s.TrustedProxies = nil }, set: prefix(func(s *Server) *[]netip.Prefix { return &s.TrustedProxies })},
		{key: "cors_origins", flag: "cors-origin", typ: "stringArray", list: true, doc: "origin allowed to call the API, or *",
			reset: func(s *Server) { s.CORSOrigins = nil }, set: func(s *Server, v string) error { s.CORSOrigins = append(s.CORSOrigins, v); return nil }},
		{key: "allow", flag: "allow", typ: "stringArray", list: true, doc: "CIDR the target policy allows although private",
			reset: func(s *Server) { s.Allow = nil }, set: prefix(func(s *Server) *[]netip.Prefix { return &s.Allow })},
		{key: "tls_cert", flag: "tls-cert", typ: "string", doc: "TLS certificate file (PEM); with tls_key serves HTTPS", set: text(func(s *Server) *string { return &s.TLSCert })},
		{key: "tls_key", flag: "tls-key", typ: "string", doc: "TLS key file (PEM)", set: text(func(s *Server) *string { return &s.TLSKey })},
		{key: "redirect_http", flag: "redirect-http", typ: "string", doc: "with TLS: also listen on this address (e.g. :80) and redirect HTTP to HTTPS", set: hostPort(func(s *Server) *string { return &s.RedirectHTTP })},
		{key: "resolvers", flag: "resolvers", typ: "string", doc: "YAML resolver list for propagation checks (default: the shipped list)", set: text(func(s *Server) *string { return &s.Resolvers })},
		{key: "retention", flag: "retention", def: "90d", typ: "string", doc: "delete measurements older than this: days (30d) or a duration (720h); 0 keeps them",
			set: func(s *Server, v string) (err error) { s.Retention, err = parseDays(v); return err }},
		{key: "backup_daily", flag: "backup-daily", def: "false", typ: "bool", doc: "take a backup a day into DATA/backups", set: boolean(func(s *Server) *bool { return &s.BackupDaily })},
		{key: "backup_keep", flag: "backup-keep", def: "7", typ: "int", doc: "daily backups to keep (at least 1)", set: func(s *Server, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return fmt.Errorf("want a whole number of at least 1")
			}
			s.BackupKeep = n
			return nil
		}},
		{key: "watch_domains", flag: "watch-domain", typ: "stringArray", list: true, doc: "zone whose records the server snapshots every watch_every, logging each change (docs/SNAPSHOTS.md)",
			reset: func(s *Server) { s.WatchDomains = nil }, set: func(s *Server, v string) error {
				n, err := dnsq.NormalizeName(v)
				if err != nil {
					return fmt.Errorf("want a domain name such as example.com: %w", err)
				}
				s.WatchDomains = append(s.WatchDomains, n)
				return nil
			}},
		{key: "watch_every", flag: "watch-every", def: "1h", typ: "string", doc: "interval of the snapshots of watch_domains, at least 1m",
			set: func(s *Server, v string) error {
				d, err := time.ParseDuration(v)
				if err != nil || d < time.Minute {
					return fmt.Errorf("want a duration of at least 1m such as 30m or 6h")
				}
				s.WatchEvery = d
				return nil
			}},
		{key: "debug_listen", flag: "debug-listen", typ: "string", doc: "loopback host:port serving Go's profiles (/debug/pprof/) for performance work; off when empty",
			set: func(s *Server, v string) error {
				ap, err := netip.ParseAddrPort(v)
				if err != nil || !ap.Addr().IsLoopback() {
					return fmt.Errorf("want a loopback address and port such as 127.0.0.1:6060 (profiles are never served beyond this host)")
				}
				s.DebugListen = v
				return nil
			}},
		{key: "nats", flag: "nats", typ: "string", doc: "NATS URL shared by several servers for agents, e.g. nats://127.0.0.1:4222 (default: the embedded NATS server only)", set: text(func(s *Server) *string { return &s.NATS })},
		{key: "server_id", flag: "server-id", typ: "string", doc: "this server's id among servers sharing one store: it owns the measurements it runs, and its start-up fails only its own unfinished ones (default: an id made at the first start and kept in DATA/server-id)",
			set: func(s *Server, v string) error {
				if !validServerID(v) {
					return fmt.Errorf("want 1 to 64 letters, digits, '.', '_' or '-', such as eu-1")
				}
				s.ServerID = v
				return nil
			}},
		{key: "server_lease", flag: "server-lease", def: "30s", typ: "string", doc: "how long a server's claim on its running measurements lasts unrenewed (renewed three times as often); then another server fails them",
			set: func(s *Server, v string) error {
				d, err := time.ParseDuration(v)
				if err != nil || d < time.Second || d > time.Hour {
					return fmt.Errorf("want a duration from 1s to 1h, such as 30s")
				}
				s.ServerLease = d
				return nil
			}},
		{key: "tile_url", flag: "tile-url", typ: "string", doc: "raster tile URL template ({z}/{x}/{y}) for the web map (default: offline country outlines only)", set: text(func(s *Server) *string { return &s.TileURL })},
		{key: "tile_attribution", flag: "tile-attribution", typ: "string", doc: "attribution shown on the map for tile_url", set: text(func(s *Server) *string { return &s.TileAttr })},
		{key: "rate_limits", flag: "rate-limit", typ: "stringArray", list: true, doc: "quota per client of a class, CLASS=N/WINDOW such as dns=6000/1m (the last for a class wins; classes: " + strings.Join(rateLimitClasses(), ", ") + ")",
			reset: func(s *Server) { s.RateLimits = nil }, set: func(s *Server, v string) error {
				p, err := parseRateLimit(v)
				s.RateLimits = append(s.RateLimits, p)
				return err
			}},
		{key: "log_level", flag: "log-level", def: "info", typ: "string", doc: "least level logged: debug, info (logs every request), warn or error",
			set: func(s *Server, v string) (err error) { s.LogLevel, err = parseLogLevel(v); return err }},
		{key: "geo_data", flag: "geo-data", typ: "string", doc: "directory of geo data files, as 'make geo' fills it (default ./data, else data/ beside the binary's bin/)", set: text(func(s *Server) *string { return &s.GeoData })},
		{key: "geo_city", flag: "geo-city", typ: "strings", list: true, sep: ":", doc: "location mmdb file (GeoLite2/GeoIP2 City, DB-IP, IPinfo Lite), asked in order; replaces the data directory's",
			reset: func(s *Server) { s.GeoCity = nil }, set: func(s *Server, v string) error { s.GeoCity = append(s.GeoCity, v); return nil }},
		{key: "geo_asn", flag: "geo-asn", typ: "strings", list: true, sep: ":", doc: "ASN file: mmdb (GeoLite2-ASN, IPinfo Lite) or ip-location-db CSV; replaces the data directory's",
			reset: func(s *Server) { s.GeoASN = nil }, set: func(s *Server, v string) error { s.GeoASN = append(s.GeoASN, v); return nil }},
		{key: "geo_overrides", flag: "geo-overrides", typ: "string", doc: "operator overrides YAML: CIDR → label, location, ASN", set: text(func(s *Server) *string { return &s.GeoOverrides })},
		{key: "public_address", flag: "public-address", typ: "string", doc: "the server's public IP address; the geo data for it gives the location's coordinates when they are not set",
			set: func(s *Server, v string) error {
				a, err := netip.ParseAddr(v)
				if err != nil || a.Zone() != "" {
					return fmt.Errorf("want an IP address such as 203.0.113.7 or 2001:db8::7")
				}
				s.PublicAddress = a
				return nil
			}},
		{key: "location.id", flag: "location-id", def: "local", typ: "string", doc: "id of the server's own location (the default location of measurements)", set: locField("id")},
		{key: "location.name", flag: "location-name", def: "This server", typ: "string", doc: "name of the server's own location", set: locField("name")},
		{key: "location.provider", flag: "location-provider", def: "self", typ: "string", doc: "who hosts the server (shown with the location)", set: locField("provider")},
		{key: "location.city", flag: "location-city", typ: "string", doc: "city of the server (default: from the geo data for public_address)", set: locField("city")},
		{key: "location.country", flag: "location-country", typ: "string", doc: "country of the server (default: from the geo data for public_address)", set: locField("country")},
		{key: "location.latitude", flag: "location-latitude", typ: "float", doc: "latitude of the server, -90 to 90 (default: from the geo data for public_address, else unknown)", set: locField("latitude")},
		{key: "location.longitude", flag: "location-longitude", typ: "float", doc: "longitude of the server, -180 to 180 (default: as latitude)", set: locField("longitude")},
		{key: "locations", list: true, doc: "other locations (id, name, provider, city, country, latitude, longitude, endpoint), offline until an agent serves them; in the environment as YAML, e.g. [{id: fra, name: Frankfurt}]",
			reset: func(s *Server) { s.Locations = nil }, node: decodeLocations},
	}
}

// lookupSetting finds a setting by its YAML key.
func lookupSetting(key string) *setting {
	for _, st := range settings() {
		if st.key == key {
			return st
		}
	}
	return nil
}

func text(p func(*Server) *string) func(*Server, string) error {
	return func(s *Server, v string) error { *p(s) = v; return nil }
}

func hostPort(p func(*Server) *string) func(*Server, string) error {
	return func(s *Server, v string) error {
		if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
			return fmt.Errorf("want host:port such as 127.0.0.1:8080 or :8443")
		}
		*p(s) = v
		return nil
	}
}

func boolean(p func(*Server) *bool) func(*Server, string) error {
	return func(s *Server, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		*p(s) = b
		return nil
	}
}

func prefix(p func(*Server) *[]netip.Prefix) func(*Server, string) error {
	return func(s *Server, v string) error {
		pre, err := netip.ParsePrefix(v)
		if err != nil {
			return fmt.Errorf("want a CIDR such as 10.20.0.0/16 or 2001:db8::/32")
		}
		*p(s) = append(*p(s), pre)
		return nil
	}
}
