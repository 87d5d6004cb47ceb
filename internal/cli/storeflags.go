package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/store"
)

// Environment variables that give the store URL or the data directory when
// neither --db nor --data is set (the same as dnsscience serve reads).
const (
	dbEnv   = "DNSSCIENCE_DB"
	dataEnv = "DNSSCIENCE_DATA"
)

// defaultDataDir is where the SQLite store lives unless told otherwise.
const defaultDataDir = "./data"

// storeFlags are the --db and --data flags of every command that opens the
// store (serve, backup, restore, apikey).
type storeFlags struct {
	db, data string
}

// addStoreFlags registers --db and --data on cmd (persistent, so subcommands
// inherit them).
func addStoreFlags(cmd *cobra.Command) *storeFlags {
	f := &storeFlags{}
	fs := cmd.PersistentFlags()
	fs.StringVar(&f.db, "db", "", "store URL: postgres://user@host/db, sqlite:///path/file.db or a file path (default $"+dbEnv+", else the file in --data)")
	fs.StringVar(&f.data, "data", "", "data directory holding the SQLite store "+store.DefaultFileName+" (default $"+dataEnv+", else ./data)")
	cmd.MarkFlagsMutuallyExclusive("db", "data")
	return f
}

// url returns the store URL: --db, else --data when given, else $DNSSCIENCE_DB,
// else the SQLite file in $DNSSCIENCE_DATA, else in ./data.
func (f *storeFlags) url() string {
	switch {
	case f.db != "":
		return f.db
	case f.data != "":
		return store.SQLiteURL(f.data)
	case os.Getenv(dbEnv) != "":
		return os.Getenv(dbEnv)
	case os.Getenv(dataEnv) != "":
		return store.SQLiteURL(os.Getenv(dataEnv))
	}
	return store.SQLiteURL(defaultDataDir)
}

// open opens the store. With mustExist, a SQLite file that does not exist
// yet is bad input rather than a new, empty store.
func (f *storeFlags) open(ctx context.Context, mustExist bool) (*store.Store, error) {
	u := f.url()
	if mustExist && !isPostgresURL(u) {
		path := strings.TrimPrefix(strings.TrimPrefix(u, "sqlite://"), "sqlite:")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, usageErr("no store at %s: give --data DIR or --db URL (or set $%s)", path, dbEnv)
		}
	}
	s, err := store.Open(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("opening the store at %s: %w", redactURL(u), err)
	}
	return s, nil
}

func isPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// redactURL hides a password in a store URL, for messages.
func redactURL(u string) string {
	if !isPostgresURL(u) {
		return u
	}
	p, err := url.Parse(u)
	if err != nil {
		return "postgres://..."
	}
	return p.Redacted()
}
