package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/config"
	"github.com/dnsscience/dnsscience/internal/store"
)

// storeFlags are the --db, --data and --config flags of the commands that
// open the store without serving (backup, restore, apikey). The store URL
// is resolved by internal/config, as for serve.
type storeFlags struct {
	flags *config.Flags
}

// addStoreFlags registers the store settings on cmd (persistent, so
// subcommands inherit them).
func addStoreFlags(cmd *cobra.Command) *storeFlags {
	f := &storeFlags{flags: config.Register(cmd.PersistentFlags(), config.StoreKeys...)}
	cmd.MarkFlagsMutuallyExclusive("db", "data")
	return f
}

// url returns the store URL (see config.Server.StoreURL).
func (f *storeFlags) url() (string, error) {
	s, err := f.flags.Load(os.LookupEnv)
	if err != nil {
		return "", usageErr("%v", err)
	}
	return s.StoreURL(), nil
}

// open opens the store. With mustExist, a SQLite file that does not exist
// yet is bad input rather than a new, empty store.
func (f *storeFlags) open(ctx context.Context, mustExist bool) (*store.Store, error) {
	u, err := f.url()
	if err != nil {
		return nil, err
	}
	return openStore(ctx, u, mustExist)
}

func openStore(ctx context.Context, u string, mustExist bool) (*store.Store, error) {
	if mustExist && !isPostgresURL(u) {
		path := strings.TrimPrefix(strings.TrimPrefix(u, "sqlite://"), "sqlite:")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, usageErr("no store at %s: give --data DIR or --db URL (or set $%sDB)", path, config.EnvPrefix)
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
