// Package storetest gives other packages' tests a fresh store of every
// dialect: SQLite in a temporary directory, and PostgreSQL in a schema of
// its own in the database named by $DNSSCIENCE_TEST_POSTGRES (skipped,
// saying so, when that is unset).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/dnsscience/dnsscience/internal/store"
)

// PostgresEnv names the variable holding a PostgreSQL DSN for the tests.
const PostgresEnv = "DNSSCIENCE_TEST_POSTGRES"

// Each runs f as a subtest ("sqlite", "postgres") with the URL of a fresh,
// empty store of that dialect; open it as often as needed (a restart).
func Each(t *testing.T, f func(t *testing.T, url string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { f(t, store.SQLiteURL(t.TempDir())) })
	t.Run("postgres", func(t *testing.T) { f(t, PostgresURL(t)) })
}

// Open opens the store at u, closed when t ends.
func Open(t testing.TB, u string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("opening store %s: %v", u, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// PostgresURL creates a schema of its own, dropped when t ends, and
// returns a DSN whose search_path is that schema; it skips t when
// $DNSSCIENCE_TEST_POSTGRES is unset.
func PostgresURL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		t.Skip(PostgresEnv + " is not set: set it to a PostgreSQL DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run this test against PostgreSQL")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parsing %s: %v", PostgresEnv, err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "dnss_test_" + hex.EncodeToString(b[:])
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		db.Close()
		t.Fatalf("creating test schema in %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		defer db.Close()
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("dropping test schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
