// Package store keeps what the server measured and who may use it: one
// concrete Store on database/sql with two dialects, SQLite (modernc.org/sqlite,
// the embedded default) and PostgreSQL (pgx, for scale), versioned migrations
// embedded in the binary, and a portable backup format that moves between the
// two.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Dialect names returned by Store.Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// DefaultFileName is the SQLite database file inside a data directory.
const DefaultFileName = "dnsscience.db"

// Sentinel errors callers branch on.
var (
	// ErrNotFound: no such measurement, or no such (or a revoked) API key.
	ErrNotFound = errors.New("not found")
	// ErrInvalid: a value the store refuses (empty type, unknown status ...).
	ErrInvalid = errors.New("invalid value")
	// ErrGone: a SQLite store that existed is missing; Open does not
	// silently create an empty one in its place (see ForgetGone).
	ErrGone = errors.New("store file gone")
)

// Store is the one store of dnsscience. It is safe for concurrent use.
type Store struct {
	// observer, when set (SetObserver), is called after every store
	// operation; it may be set while the store is in use.
	observer atomic.Pointer[func(op string, d time.Duration)]

	dialect string
	// w takes writes and r reads. For SQLite w is a single connection (so
	// writers in this process queue instead of failing busy) and r a pool
	// of query-only connections; for PostgreSQL both are the same pool.
	w, r *sql.DB
	// path is the SQLite file (empty for PostgreSQL) and file what it was
	// when opened, so Ping notices the file being removed or replaced.
	path string
	file os.FileInfo
}

// SQLiteURL returns the store URL of the default database file in dataDir.
func SQLiteURL(dataDir string) string {
	return "sqlite://" + strings.TrimSuffix(dataDir, "/") + "/" + DefaultFileName
}

// Open opens the store at url and applies pending migrations. url is
// "postgres://..." (or "postgresql://...") for PostgreSQL, and
// "sqlite:///path/to/db.sqlite", "sqlite:relative.db" or a bare file path
// for SQLite; a SQLite file's directory is created if missing.
func Open(ctx context.Context, url string) (*Store, error) {
	var (
		s   *Store
		err error
	)
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		s, err = openPostgres(ctx, url)
	case url == "":
		return nil, fmt.Errorf("opening store: empty url: %w", ErrInvalid)
	default:
		s, err = openSQLite(ctx, sqlitePath(url))
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sqlitePath turns a sqlite URL or a bare path into a file path.
func sqlitePath(url string) string {
	if p, ok := strings.CutPrefix(url, "sqlite://"); ok {
		return p
	}
	if p, ok := strings.CutPrefix(url, "sqlite:"); ok {
		return p
	}
	return url
}

// Dialect returns DialectSQLite or DialectPostgres.
func (s *Store) Dialect() string { return s.dialect }

// Close closes the store's connections.
func (s *Store) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// Ping checks that the database answers and holds the store's tables; for
// SQLite it also checks that the database file is still the one opened.
func (s *Store) Ping(ctx context.Context) error {
	defer s.observe("ping", time.Now())
	if err := s.checkFile(); err != nil {
		return fmt.Errorf("pinging store: %w", err)
	}
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil {
		return fmt.Errorf("pinging store: %w", unavailable(err))
	}
	if n == 0 {
		return errors.New("pinging store: no migrations applied")
	}
	return nil
}

// SetObserver makes f be called after every store operation with its
// name (e.g. "get_measurement") and how long it took; the server feeds it
// to a latency histogram. It is safe while the store is in use.
func (s *Store) SetObserver(f func(op string, d time.Duration)) { s.observer.Store(&f) }

func (s *Store) observe(op string, start time.Time) {
	if f := s.observer.Load(); f != nil {
		(*f)(op, time.Since(start))
	}
}

// q adapts a query written with ? placeholders to the dialect.
func (s *Store) q(query string) string {
	if s.dialect != DialectPostgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// micros converts t to Unix microseconds, NULL for the zero time.
func micros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// fromMicros converts a stored time back, the zero time for NULL.
func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// now is the current time at the store's precision.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
