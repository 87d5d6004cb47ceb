package store

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBackupFile(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		fill(t, s)
		dir := t.TempDir()
		path := filepath.Join(dir, BackupFileName(time.Now()))
		info, err := s.BackupFile(context.Background(), path)
		if err != nil {
			t.Fatalf("BackupFile: %v", err)
		}
		if info.Counts["measurements"] != 6 || info.Counts["api_keys"] != 2 {
			t.Errorf("BackupFile counts = %v, want 6 measurements, 2 api_keys", info.Counts)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 || entries[0].Name() != filepath.Base(path) {
			t.Errorf("directory holds %v, want only %s (no temporary files)", entries, filepath.Base(path))
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		dst := openStore(t, backends()[0].url(t))
		if err := dst.Restore(context.Background(), f); err != nil {
			t.Fatalf("restoring the file: %v", err)
		}
		if got, want := snapshot(t, dst), snapshot(t, s); !reflect.DeepEqual(got, want) {
			t.Errorf("restored from file differs:\n got %+v\nwant %+v", got, want)
		}
		if _, err := s.BackupFile(context.Background(), filepath.Join(dir, "missing", "x.gz")); err == nil {
			t.Error("BackupFile into a missing directory succeeded, want an error")
		}
	})
}

func TestPruneBackups(t *testing.T) {
	dir := t.TempDir()
	start := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	var names []string
	for i := range 5 {
		n := BackupFileName(start.Add(time.Duration(i) * 24 * time.Hour))
		names = append(names, n)
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o600)
	deleted, err := PruneBackups(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, names[0]), filepath.Join(dir, names[1]), filepath.Join(dir, names[2])}
	if !reflect.DeepEqual(deleted, want) {
		t.Errorf("deleted %v, want the 3 oldest %v", deleted, want)
	}
	entries, _ := os.ReadDir(dir)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if wantLeft := []string{names[3], names[4], "notes.txt"}; !reflect.DeepEqual(left, wantLeft) {
		t.Errorf("left %v, want %v", left, wantLeft)
	}
	if deleted, err := PruneBackups(dir, 5); err != nil || len(deleted) != 0 {
		t.Errorf("PruneBackups(keep 5) = %v, %v; want nothing deleted", deleted, err)
	}
}

// TestBackupWhileWriting takes backups while goroutines keep writing: each
// backup succeeds (writers are not blocked into errors either) and restores
// to exactly the rows it counted.
func TestBackupWhileWriting(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		var stop atomic.Bool
		var wg sync.WaitGroup
		var writes atomic.Int64
		for range 2 {
			wg.Go(func() {
				for !stop.Load() {
					m := &Measurement{Type: "dns", Target: "example.com"}
					if err := s.CreateMeasurement(ctx, m); err != nil {
						t.Errorf("writer: %v", err)
						return
					}
					writes.Add(1)
				}
			})
		}
		for writes.Load() < 20 {
			time.Sleep(time.Millisecond)
		}
		var backups [][]byte
		for range 3 {
			backups = append(backups, backupOf(t, s))
		}
		stop.Store(true)
		wg.Wait()
		dst := openStore(t, backends()[0].url(t))
		var last int
		for i, b := range backups {
			if err := dst.Restore(ctx, bytesReader(b)); err != nil {
				t.Fatalf("restoring backup %d: %v", i, err)
			}
			var n int
			if err := dst.r.QueryRow("SELECT COUNT(*) FROM measurements").Scan(&n); err != nil {
				t.Fatal(err)
			}
			info, _ := ReadBackupInfo(bytesReader(b))
			if int64(n) != info.Counts["measurements"] {
				t.Errorf("backup %d restored %d measurements, its count says %d", i, n, info.Counts["measurements"])
			}
			if n < last {
				t.Errorf("backup %d holds %d measurements, fewer than the earlier backup's %d", i, n, last)
			}
			last = n
		}
		if last == 0 {
			t.Error("the backups hold no measurements, want those written before them")
		}
	})
}
