package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// sqlitePragmas apply to every SQLite connection: wait up to 10 s for a lock
// held by another connection or process, write-ahead logging so readers never
// block the writer, and foreign keys enforced.
const sqlitePragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)"

// openSQLite opens the database file at path with one writer connection and a
// pool of query-only readers.
func openSQLite(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file::memory:") {
		return nil, fmt.Errorf("opening sqlite store: an in-memory database cannot be shared by connections; give a file path: %w", ErrInvalid)
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("opening sqlite store %q: the path may not contain '?' or '#': %w", path, ErrInvalid)
	}
	// Absolute, so Ping checks the same file after a change of directory.
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("opening sqlite store: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("opening sqlite store: %w", err)
	}
	if err := checkNotGone(path); err != nil {
		return nil, err
	}
	// A new database is readable by its owner only (it holds key hashes);
	// SQLite gives its -wal and -shm files the same mode.
	if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	if err := os.WriteFile(createdMarker(path), []byte("a dnsscience store was created as "+filepath.Base(path)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("opening sqlite store: recording its creation: %w", err)
	}
	// The writer creates the file; every write first checks it is still
	// the file opened (checkFile), so the writer never reconnects to a
	// deleted one. Readers open lazily, so they use mode=rw: a reader
	// opened after the file was deleted fails rather than creating an
	// empty database.
	w, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate&"+sqlitePragmas)
	if err != nil {
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	// The writer creates the file (and switches it to WAL) before readers,
	// which are query-only, open it.
	if err := pingWhileBusy(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", "file:"+path+"?mode=rw&"+sqlitePragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	fi, err := os.Stat(path)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("opening sqlite store: %w", err)
	}
	return &Store{dialect: DialectSQLite, w: w, r: r, path: path, file: fi}, nil
}

// pingWhileBusy connects db, trying again while SQLite answers SQLITE_BUSY
// (10 s at most, as busy_timeout): switching a new file to WAL needs it to
// itself, and SQLite answers BUSY at once, without the busy handler, when
// another process opens the same new store at that moment.
func pingWhileBusy(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := db.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait): // backing off: the other opener holds the file
		}
	}
}

// createdMarker is the file beside a SQLite store that records it was
// created: a store file missing while its marker is there was lost
// (deleted, a volume not mounted), not never made.
func createdMarker(path string) string { return path + ".created" }

// checkNotGone refuses to create an empty database where one was lost.
// The marker is looked at first: it is written after the file is created,
// so a file missing after the marker was seen is really gone, while a
// process creating the store at the same moment is not taken for a loss.
func checkNotGone(path string) error {
	if _, err := os.Stat(createdMarker(path)); err != nil {
		return nil // never created here: a new store
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return fmt.Errorf("opening sqlite store %s: the file is missing, but a store was created there before (%s): "+
		"restore a backup with `dnsscience restore`, or delete %s to start with an empty store: %w",
		path, createdMarker(path), createdMarker(path), ErrGone)
}

// ForgetGone accepts that the SQLite store at url is gone, so the next Open
// creates a new one (restore does this before refilling it); other URLs are
// left alone.
func ForgetGone(url string) error {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return nil
	}
	abs, err := filepath.Abs(sqlitePath(url))
	if err != nil {
		return err
	}
	if err := os.Remove(createdMarker(abs)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("forgetting the lost store: %w", err)
	}
	return nil
}
