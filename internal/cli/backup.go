package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/store"
)

// backupSummary is what backup and restore print with --json.
type backupSummary struct {
	File          string           `json:"file"`
	Bytes         int64            `json:"bytes,omitempty"`
	Store         string           `json:"store"`
	Dialect       string           `json:"dialect"`
	SchemaVersion int              `json:"schema_version"`
	CreatedAt     time.Time        `json:"created_at"`
	Counts        map[string]int64 `json:"counts"`
}

func newBackupCmd(e *env) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "backup --to FILE",
		Short: "Write a consistent copy of the store to a file while it is in use",
		Long: `backup copies every measurement and API key (hashed) of the store into FILE,
gzip-compressed JSON Lines, taken in one read transaction so the copy is
consistent while the server keeps writing. A backup of a SQLite store restores
into PostgreSQL and back. The file is written beside FILE and renamed into
place once complete and verified; --to - writes to stdout.`,
		Example: `  dnsscience backup --to backups/dnsscience-$(date +%F).jsonl.gz
  dnsscience backup --data /var/lib/dnsscience --to /srv/backup/dnss.jsonl.gz
  dnsscience backup --db postgres://dnss@db.internal/dnss --to dnss.jsonl.gz --json`,
		Args: cobra.NoArgs,
	}
	sf := addStoreFlags(cmd)
	cmd.Flags().StringVar(&to, "to", "", "file to write the backup to (required; - for stdout)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if to == "" {
			return usageErr("backup needs --to FILE (or --to - for stdout)")
		}
		if to == "-" && e.json {
			return usageErr("--json prints a summary on stdout, which --to - uses for the backup: give --to FILE")
		}
		s, err := sf.open(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer s.Close()
		if to == "-" {
			return s.Backup(cmd.Context(), e.stdout)
		}
		info, err := s.BackupFile(cmd.Context(), to)
		if err != nil {
			return err
		}
		var size int64
		if fi, err := os.Stat(to); err == nil {
			size = fi.Size()
		}
		sum := summaryOf(to, size, info)
		u, _ := sf.url() // resolved without error by open above
		sum.Store = redactURL(u)
		if e.json {
			return writeJSON(e.stdout, sum)
		}
		_, err = fmt.Fprintf(e.stdout, "backed up %d measurements and %d API keys to %s (%s, schema %d)\n",
			sum.Counts["measurements"], sum.Counts["api_keys"], sum.File, sizeText(sum.Bytes), sum.SchemaVersion)
		return err
	}
	return cmd
}

func summaryOf(file string, size int64, info store.BackupInfo) backupSummary {
	return backupSummary{File: file, Bytes: size, Dialect: info.Dialect, SchemaVersion: info.SchemaVersion,
		CreatedAt: info.CreatedAt, Counts: info.Counts}
}

// sizeText renders a byte count for people.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
