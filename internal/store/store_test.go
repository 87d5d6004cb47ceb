package store

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// postgresEnv names the variable holding a PostgreSQL DSN for the tests.
const postgresEnv = "DNSSCIENCE_TEST_POSTGRES"

// backend opens fresh, empty stores of one dialect for a test.
type backend struct {
	name string
	// url returns the URL of a fresh, empty database that lives as long as t.
	url func(t testing.TB) string
}

// backends lists the dialects every store test runs against.
func backends() []backend {
	return []backend{
		{DialectSQLite, func(t testing.TB) string {
			return "sqlite://" + filepath.Join(t.TempDir(), "data", DefaultFileName)
		}},
		{DialectPostgres, postgresURL},
	}
}

// postgresURL creates a uniquely named schema in the database of
// $DNSSCIENCE_TEST_POSTGRES, drops it when t ends, and returns a DSN whose
// search_path is that schema. It skips t when the variable is unset.
func postgresURL(t testing.TB) string {
	dsn := os.Getenv(postgresEnv)
	if dsn == "" {
		t.Skip(postgresEnv + " is not set: set it to a PostgreSQL DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the store tests against PostgreSQL")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := "dnss_test_" + newID()
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		db.Close()
		t.Fatalf("creating test schema in %s: %v", postgresEnv, err)
	}
	t.Cleanup(func() {
		defer db.Close()
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("dropping test schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parsing %s: %v", postgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// openStore opens a store at u, closed when t ends.
func openStore(t testing.TB, u string) *Store {
	t.Helper()
	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatalf("Open(%s): %v", u, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// eachBackend runs f as a subtest against a fresh store of every dialect.
func eachBackend(t *testing.T, f func(t *testing.T, s *Store, u string)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			u := b.url(t)
			f(t, openStore(t, u), u)
		})
	}
}

func TestOpenURLs(t *testing.T) {
	dir := t.TempDir()
	for _, u := range []string{
		"sqlite://" + filepath.Join(dir, "a", "x.db"),
		"sqlite:" + filepath.Join(dir, "b.db"),
		filepath.Join(dir, "c", "d", "bare.db"),
	} {
		s := openStore(t, u)
		if got := s.Dialect(); got != DialectSQLite {
			t.Errorf("Open(%s).Dialect() = %s, want sqlite", u, got)
		}
		if err := s.Ping(context.Background()); err != nil {
			t.Errorf("Open(%s).Ping: %v", u, err)
		}
	}
	for _, u := range []string{"", ":memory:", "sqlite://" + dir + "/x.db?mode=ro"} {
		if s, err := Open(context.Background(), u); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", u)
		}
	}
}

func TestSQLiteURL(t *testing.T) {
	if got, want := SQLiteURL("./data/"), "sqlite://./data/dnsscience.db"; got != want {
		t.Errorf("SQLiteURL = %s, want %s", got, want)
	}
}

func TestDialect(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store, u string) {
		want := DialectSQLite
		if strings.HasPrefix(u, "postgres") {
			want = DialectPostgres
		}
		if got := s.Dialect(); got != want {
			t.Errorf("Dialect() = %s, want %s", got, want)
		}
	})
}

func TestSQLiteFileMode(t *testing.T) {
	s := openStore(t, backends()[0].url(t))
	if _, _, err := s.CreateAPIKey(context.Background(), "k", false); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{s.path, s.path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %v, want 0600 (the store holds key hashes)", filepath.Base(p), mode)
		}
	}
}
