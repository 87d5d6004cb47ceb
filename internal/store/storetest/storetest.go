// Package storetest gives other packages' tests a fresh store of every
// dialect: SQLite in a temporary directory, and PostgreSQL in a schema of
// its own in the database named by $DNSSCIENCE_TEST_POSTGRES (skipped,
// saying so, when that is unset).
package storetest

import (
	"context"
	"testing"

	"github.com/dnsscience/dnsscience/internal/pgtest"
	"github.com/dnsscience/dnsscience/internal/store"
)

// PostgresEnv names the variable holding a PostgreSQL DSN for the tests.
const PostgresEnv = pgtest.Env

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
// $DNSSCIENCE_TEST_POSTGRES is unset (pgtest.URL).
func PostgresURL(t testing.TB) string {
	t.Helper()
	return pgtest.URL(t, "dnss_test")
}
