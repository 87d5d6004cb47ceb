package store

import (
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// needTool skips t when a Debian tool is missing.
func needTool(t *testing.T, name, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed (Debian package %s; make deps installs it)", name, pkg)
	}
}

// TestSQLiteInterop opens the store's file with Debian's sqlite3 while the
// store has it open: it must be a sound WAL database holding what the store
// wrote (the key only as its hash), and a row sqlite3 inserts from its own
// process must be visible to the store.
func TestSQLiteInterop(t *testing.T) {
	needTool(t, "sqlite3", "sqlite3")
	s := openStore(t, backends()[0].url(t))
	plain := fill(t, s)
	run := func(sql string) string {
		t.Helper()
		out, err := exec.Command("sqlite3", "-cmd", ".timeout 10000", s.path, sql).CombinedOutput()
		if err != nil {
			t.Fatalf("sqlite3 %q: %v: %s", sql, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run("PRAGMA integrity_check; PRAGMA journal_mode; PRAGMA foreign_keys;"); got != "ok\nwal\n0" {
		t.Errorf("sqlite3 integrity, journal mode, foreign keys (per connection) = %q, want ok, wal, 0", got)
	}
	if got := run("SELECT COUNT(*) FROM measurements; SELECT MAX(version) FROM schema_migrations;"); got != fmt.Sprintf("6\n%d", SchemaVersion()) {
		t.Errorf("sqlite3 counts = %q, want 6 measurements and schema %d", got, SchemaVersion())
	}
	dump := run(".dump api_keys")
	if strings.Contains(dump, plain[10:]) || !strings.Contains(dump, hashKey(plain)) {
		t.Errorf("sqlite3 .dump api_keys holds the key or lacks its hash:\n%s", dump)
	}
	created := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	run(fmt.Sprintf(`INSERT INTO measurements (id, type, target, status, created_at) VALUES ('fromsqlite3', 'dns', 'example.org', 'queued', %d)`, created.UnixMicro()))
	m, err := s.GetMeasurement(context.Background(), "fromsqlite3")
	if err != nil || m.Target != "example.org" || !m.CreatedAt.Equal(created) {
		t.Errorf("GetMeasurement of sqlite3's row = %+v, %v; want example.org created %v", m, err, created)
	}
}

// TestPostgresInterop dumps the store's schema with Debian's pg_dump: the
// api_keys data must hold the key's hash and never the key.
func TestPostgresInterop(t *testing.T) {
	u := postgresURL(t)
	needTool(t, "pg_dump", "postgresql")
	s := openStore(t, u)
	plain := fill(t, s)
	pu, _ := url.Parse(u)
	schema := pu.Query().Get("search_path")
	q := pu.Query()
	q.Del("search_path")
	pu.RawQuery = q.Encode()
	out, err := exec.Command("pg_dump", "--data-only", "--schema="+schema, "--table="+schema+".api_keys", pu.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v: %s", err, out)
	}
	if strings.Contains(string(out), plain[10:]) || !strings.Contains(string(out), hashKey(plain)) {
		t.Errorf("pg_dump of api_keys holds the key or lacks its hash:\n%s", out)
	}
}
