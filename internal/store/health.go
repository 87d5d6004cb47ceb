package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrUnavailable: the database cannot take the operation now (the SQLite
// file was deleted or replaced, PostgreSQL is down or unreachable). The
// server answers 503; writers that must not lose data retry.
var ErrUnavailable = errors.New("store unavailable")

// checkFile refuses to write when the SQLite file was deleted or replaced
// since it was opened: the open connection would write into a file no one
// will read again, so nothing is acknowledged that is not stored.
func (s *Store) checkFile() error {
	if s.path == "" {
		return nil
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("database file %s: %w: %w", s.path, err, ErrUnavailable)
	}
	if !os.SameFile(fi, s.file) {
		return fmt.Errorf("database file %s was replaced since it was opened: %w", s.path, ErrUnavailable)
	}
	return nil
}

// unavailable wraps err with ErrUnavailable when it says the database
// cannot be reached (connection refused or reset, server shutting down,
// file gone), so callers can tell "down" from "refused".
func unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || errors.Is(err, context.Canceled) {
		return err
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, os.ErrNotExist), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", err, ErrUnavailable)
	case errors.As(err, &pe) && (strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")):
		// connection exceptions and operator intervention (admin shutdown)
		return fmt.Errorf("%w: %w", err, ErrUnavailable)
	case strings.Contains(err.Error(), "conn closed"), strings.Contains(err.Error(), "unexpected EOF"), strings.Contains(err.Error(), "bad connection"):
		return fmt.Errorf("%w: %w", err, ErrUnavailable)
	}
	return err
}

// checkText refuses NUL bytes, which PostgreSQL cannot store in text
// (and so a SQLite backup holding one could not be restored there).
func checkText(field, v string) error {
	if strings.ContainsRune(v, 0) || strings.Contains(v, `\u0000`) {
		return fmt.Errorf("%s holds a NUL byte, which the store refuses on every dialect: %w", field, ErrInvalid)
	}
	return nil
}
