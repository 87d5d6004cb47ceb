// Package maintenance is the server's housekeeping: retention of measurements
// and daily backups.
package maintenance

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/dnsscience/dnsscience/internal/store"
)

// Maintenance is the housekeeping: deleting measurements past
// their retention and taking daily backups. The zero value does nothing.
type Maintenance struct {
	Store *store.Store
	Log   *slog.Logger
	// Retention deletes measurements older than this; 0 keeps them forever.
	Retention time.Duration
	// BackupDir receives a backup each Every; "" takes none.
	BackupDir string
	// BackupKeep is how many backups to keep; 0 means 7.
	BackupKeep int
	// Every is the interval between rounds; 0 means 24 h.
	Every time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Run does one round at once and then one every interval until ctx ends.
func (m *Maintenance) Run(ctx context.Context) {
	every := m.Every
	if every <= 0 {
		every = 24 * time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := m.Round(ctx); err != nil && ctx.Err() == nil {
			m.Log.Error("maintenance", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Round applies retention and takes a backup.
func (m *Maintenance) Round(ctx context.Context) error {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	if m.Retention > 0 {
		n, err := m.Store.DeleteMeasurementsBefore(ctx, now().Add(-m.Retention))
		if err != nil {
			return fmt.Errorf("applying retention: %w", err)
		}
		if n > 0 {
			m.Log.Info("retention", "deleted", n, "older_than", m.Retention.String())
		}
	}
	if m.BackupDir == "" {
		return nil
	}
	if err := os.MkdirAll(m.BackupDir, 0o700); err != nil {
		return fmt.Errorf("creating backup directory: %w", err)
	}
	path := filepath.Join(m.BackupDir, store.BackupFileName(now()))
	info, err := m.Store.BackupFile(ctx, path)
	if err != nil {
		return fmt.Errorf("daily backup: %w", err)
	}
	keep := m.BackupKeep
	if keep <= 0 {
		keep = 7
	}
	pruned, err := store.PruneBackups(m.BackupDir, keep)
	if err != nil {
		return fmt.Errorf("pruning backups: %w", err)
	}
	m.Log.Info("backup", "path", path, "counts", info.Counts, "pruned", len(pruned))
	return nil
}
