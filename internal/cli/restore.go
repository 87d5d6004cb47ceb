package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/store"
)

func newRestoreCmd(e *env) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Replace the store's contents with a backup",
		Long: `restore checks the backup FILE (written by dnsscience backup; - reads stdin)
and replaces every measurement and API key in the store with its contents, in
one transaction: if anything fails, the store is left as it was. The store is
created if it does not exist; one that holds data is replaced only with
--force. Backups move between SQLite and PostgreSQL.`,
		Example: `  dnsscience restore backups/dnsscience-2026-11-22.jsonl.gz
  dnsscience restore --data /var/lib/dnsscience --force dnss.jsonl.gz
  dnsscience restore --db postgres://dnss@db.internal/dnss dnss.jsonl.gz   # SQLite backup into PostgreSQL`,
		Args: cobra.ExactArgs(1),
	}
	sf := addStoreFlags(cmd)
	cmd.Flags().BoolVar(&force, "force", false, "replace a store that already holds measurements or API keys")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		src, size, err := backupSource(e, args[0])
		if err != nil {
			return err
		}
		info, err := readBackupInfo(src)
		if err != nil {
			return usageErr("%s: %v", args[0], err)
		}
		s, err := sf.open(cmd.Context(), false)
		if errors.Is(err, store.ErrGone) {
			// Restoring is what a lost store asks for: start it anew.
			u, uerr := sf.url()
			if uerr != nil {
				return uerr
			}
			if err = store.ForgetGone(u); err == nil {
				s, err = sf.open(cmd.Context(), false)
			}
		}
		if err != nil {
			return err
		}
		defer s.Close()
		if !force {
			if err := refuseNonEmpty(cmd, s); err != nil {
				return err
			}
		}
		r, err := src()
		if err != nil {
			return err
		}
		defer r.Close()
		if err := s.Restore(cmd.Context(), r); err != nil {
			return err
		}
		sum := summaryOf(args[0], size, info)
		u, _ := sf.url() // resolved without error by open above
		sum.Store = redactURL(u)
		if e.json {
			return writeJSON(e.stdout, sum)
		}
		_, err = fmt.Fprintf(e.stdout, "restored %d measurements and %d API keys into %s (from a %s backup taken %s)\n",
			sum.Counts["measurements"], sum.Counts["api_keys"], sum.Store, sum.Dialect, timeText(sum.CreatedAt))
		return err
	}
	return cmd
}

// backupSource returns a function that opens the backup named on the
// command line, each call from its start (stdin, "-", is read into memory),
// and its size.
func backupSource(e *env, name string) (func() (io.ReadCloser, error), int64, error) {
	if name == "-" {
		b, err := io.ReadAll(e.stdin)
		if err != nil {
			return nil, 0, fmt.Errorf("reading the backup from stdin: %w", err)
		}
		return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, int64(len(b)), nil
	}
	fi, err := os.Stat(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, usageErr("no backup file %s", name)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading the backup: %w", err)
	}
	return func() (io.ReadCloser, error) {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("reading the backup: %w", err)
		}
		return f, nil
	}, fi.Size(), nil
}

// readBackupInfo checks a whole backup and returns its header.
func readBackupInfo(src func() (io.ReadCloser, error)) (store.BackupInfo, error) {
	r, err := src()
	if err != nil {
		return store.BackupInfo{}, err
	}
	defer r.Close()
	return store.ReadBackupInfo(r)
}

// refuseNonEmpty returns a usage error when the store holds anything.
func refuseNonEmpty(cmd *cobra.Command, s *store.Store) error {
	ms, err := s.ListMeasurements(cmd.Context(), store.Filter{Limit: 1})
	if err != nil {
		return err
	}
	keys, err := s.ListAPIKeys(cmd.Context())
	if err != nil {
		return err
	}
	if len(ms) > 0 || len(keys) > 0 {
		return usageErr("the store holds measurements or API keys already: add --force to replace them with the backup")
	}
	return nil
}
