package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dnsscience.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPrecedence: flags > environment > file > defaults, setting by
// setting, lists replaced whole; the file may come from $DNSSCIENCE_CONFIG.
func TestPrecedence(t *testing.T) {
	t.Parallel()
	conf := writeConfig(t, "listen: 127.0.0.1:1001\nretention: 1d\nlog_level: error\nallow: [10.1.0.0/16, 10.2.0.0/16]\n")
	env := map[string]string{"DNSSCIENCE_LISTEN": "127.0.0.1:1002", "DNSSCIENCE_LOG_LEVEL": "warn", "DNSSCIENCE_ALLOW": "10.3.0.0/16, 10.4.0.0/16",
		"DNSSCIENCE_BACKUP_KEEP": "", "DNSSCIENCE_CONFIG": conf}
	s, err := load(t, []string{"--listen", "127.0.0.1:1003"}, env)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ key, got, want, origin string }{
		{"listen", s.Listen, "127.0.0.1:1003", "--listen"},                  // flag over env and file
		{"log_level", s.LogLevel.String(), "WARN", "$DNSSCIENCE_LOG_LEVEL"}, // env over file
		{"retention", s.Retention.String(), "24h0m0s", conf + ":2: retention"},
		{"backup_keep", string(rune('0' + s.BackupKeep)), "7", "default"}, // empty env is unset
		{"allow", strings.Join([]string{s.Allow[0].String(), s.Allow[len(s.Allow)-1].String()}, " "), "10.3.0.0/16 10.4.0.0/16", "$DNSSCIENCE_ALLOW"},
	} {
		if c.got != c.want || s.Origin(c.key) != c.origin {
			t.Errorf("%s = %s from %q, want %s from %q", c.key, c.got, s.Origin(c.key), c.want, c.origin)
		}
	}
	if len(s.Allow) != 2 {
		t.Errorf("allow: %v, want the environment's list replacing the file's", s.Allow)
	}
	// A bare bool flag is true; geo lists split on ':' in the environment
	// and on ',' in a flag, as the geo command's flags do.
	s, err = load(t, []string{"--backup-daily", "--geo-asn", "a.csv,b.csv", "--geo-asn", "c.csv"}, map[string]string{"DNSSCIENCE_GEO_CITY": "x.mmdb:y.mmdb"})
	if err != nil {
		t.Fatal(err)
	}
	if !s.BackupDaily || strings.Join(s.GeoCity, " ") != "x.mmdb y.mmdb" || strings.Join(s.GeoASN, " ") != "a.csv b.csv c.csv" {
		t.Errorf("backup_daily %v geo_city %q geo_asn %q", s.BackupDaily, s.GeoCity, s.GeoASN)
	}
	// --config wins over $DNSSCIENCE_CONFIG; a repeated list flag adds.
	other := writeConfig(t, "retention: 2d\n")
	s, err = load(t, []string{"--config", other, "--allow", "10.5.0.0/16", "--allow", "10.6.0.0/16"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if s.Retention.Hours() != 48 || len(s.Allow) != 2 || s.Allow[1].String() != "10.6.0.0/16" {
		t.Errorf("retention %v allow %v; want 48h from --config and the two --allow", s.Retention, s.Allow)
	}
}

// TestBadEnvAndFlags: values from the environment and flags are checked
// as the file's are, and the error names the variable or flag.
func TestBadEnvAndFlags(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, map[string]string{"DNSSCIENCE_BACKUP_DAILY": "often"}, `$DNSSCIENCE_BACKUP_DAILY "often": want true or false`},
		{nil, map[string]string{"DNSSCIENCE_TRUSTED_PROXIES": "10.0.0.0/8,proxy"}, `$DNSSCIENCE_TRUSTED_PROXIES "proxy": want a CIDR`},
		{[]string{"--retention", "forever"}, nil, `--retention "forever": want a number of days`},
		{[]string{"--rate-limit", "dns=fast"}, nil, `--rate-limit "dns=fast": want a whole number of requests`},
		{[]string{"--location-latitude", "north"}, nil, `--location-latitude "north": want a number of degrees from -90 to 90`},
		{[]string{"--location-latitude", "1", "--location-longitude", "2"}, map[string]string{"DNSSCIENCE_LOCATIONS": "[{id: local}]"}, `$DNSSCIENCE_LOCATIONS:1: locations: id "local" is the server's own location`},
		{[]string{"--tls-key", "k.pem"}, nil, "--tls-key is set without tls_cert (--tls-cert, $DNSSCIENCE_TLS_CERT)"},
		{[]string{"--config", "testdata/nope.yaml"}, nil, "reading the configuration file: open testdata/nope.yaml: no such file or directory"},
	} {
		_, err := load(t, c.args, c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: got %v, want an error containing %q", c.args, c.env, err, c.want)
		}
	}
}

// TestStoreURL: every command resolves the store the same way: the db or
// data of the highest layer that gives either, db winning within a layer.
func TestStoreURL(t *testing.T) {
	t.Parallel()
	fileDB := writeConfig(t, "db: postgres://file/db\n")
	fileData := writeConfig(t, "data: /srv/file\n")
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"default", nil, nil, "sqlite://data/dnsscience.db"},
		{"file db", []string{"--config", fileDB}, nil, "postgres://file/db"},
		{"file data", []string{"--config", fileData}, nil, "sqlite:///srv/file/dnsscience.db"},
		{"env data over file db", []string{"--config", fileDB}, map[string]string{"DNSSCIENCE_DATA": "/srv/env"}, "sqlite:///srv/env/dnsscience.db"},
		{"env db over env data", nil, map[string]string{"DNSSCIENCE_DATA": "/srv/env", "DNSSCIENCE_DB": "postgres://env/db"}, "postgres://env/db"},
		{"flag data over env db", []string{"--data", "/srv/flag"}, map[string]string{"DNSSCIENCE_DB": "postgres://env/db"}, "sqlite:///srv/flag/dnsscience.db"},
		{"flag db over flag data", []string{"--data", "/srv/flag", "--db", "postgres://flag/db"}, nil, "postgres://flag/db"},
		{"config from env", nil, map[string]string{"DNSSCIENCE_CONFIG": fileDB}, "postgres://file/db"},
	} {
		for _, keys := range [][]string{nil, StoreKeys} { // serve, and backup/restore/apikey
			s, err := load(t, c.args, c.env, keys...)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got := s.StoreURL(); got != c.want {
				t.Errorf("%s (keys %v): store %s, want %s", c.name, keys, got, c.want)
			}
		}
	}
}

// TestStoreKeysOnly: a command that registers only the store settings
// ignores the other variables and has no other flags.
func TestStoreKeysOnly(t *testing.T) {
	t.Parallel()
	if _, err := load(t, nil, map[string]string{"DNSSCIENCE_RETENTION": "forever"}, StoreKeys...); err != nil {
		t.Errorf("store command read $DNSSCIENCE_RETENTION: %v", err)
	}
}

// TestReadmeDocumentsEverySetting: the README's configuration section names
// every key, flag and environment variable.
func TestReadmeDocumentsEverySetting(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, st := range Settings() {
		for _, name := range []string{"`" + st.Key + "`", st.Flag, st.Env} {
			if name != "" && !strings.Contains(readme, name) {
				t.Errorf("README does not document %s (setting %s)", name, st.Key)
			}
		}
	}
}
