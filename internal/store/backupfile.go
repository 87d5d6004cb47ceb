package store

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Backup file names made by BackupFileName: sortable by time.
const (
	backupFilePrefix = "dnsscience-"
	backupFileSuffix = ".jsonl.gz"
)

// BackupFileName returns the file name for a backup taken at t, e.g.
// dnsscience-20261122T153000Z.jsonl.gz; names sort in time order.
func BackupFileName(t time.Time) string {
	return backupFilePrefix + t.UTC().Format("20060102T150405Z") + backupFileSuffix
}

// BackupFile writes a backup to path safely: into a temporary file beside it,
// flushed to disk, read back and checked, then renamed over path. It returns
// the backup's header and counts. On error path is untouched.
func (s *Store) BackupFile(ctx context.Context, path string) (BackupInfo, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("creating the backup file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	defer tmp.Close()
	if err := s.Backup(ctx, tmp); err != nil {
		return BackupInfo{}, err
	}
	if err := tmp.Sync(); err != nil {
		return BackupInfo{}, fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return BackupInfo{}, fmt.Errorf("verifying %s: %w", tmp.Name(), err)
	}
	info, err := ReadBackupInfo(tmp)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("verifying the backup just written: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return BackupInfo{}, fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return BackupInfo{}, fmt.Errorf("moving the backup into place: %w", err)
	}
	return info, nil
}

// PruneBackups deletes all but the newest keep backups named by
// BackupFileName in dir and returns the paths it deleted. Other files are
// left alone.
func PruneBackups(dir string, keep int) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("pruning backups: %w", err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(n, backupFilePrefix) && strings.HasSuffix(n, backupFileSuffix) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var deleted []string
	for _, n := range names[:max(len(names)-max(keep, 0), 0)] {
		p := filepath.Join(dir, n)
		if err := os.Remove(p); err != nil {
			return deleted, fmt.Errorf("pruning backups: %w", err)
		}
		deleted = append(deleted, p)
	}
	return deleted, nil
}
