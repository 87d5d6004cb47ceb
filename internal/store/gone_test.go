package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoneStoreIsNotRecreated: a store whose file was lost (deleted while
// the server was down, a volume not mounted) is refused at the next start,
// not silently replaced by an empty one; ForgetGone (what restore does)
// starts it anew.
func TestGoneStoreIsNotRecreated(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	url := SQLiteURL(dir)
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMeasurement(context.Background(), &Measurement{Type: "dns", Target: "example.test", Status: StatusQueued}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(filepath.Join(dir, DefaultFileName) + suffix)
	}
	if _, err := Open(context.Background(), url); !errors.Is(err, ErrGone) || !strings.Contains(err.Error(), "dnsscience restore") {
		t.Fatalf("reopening a lost store: %v, want ErrGone saying how to restore", err)
	}
	if _, err := os.Stat(filepath.Join(dir, DefaultFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the refused open created a file: %v", err)
	}
	if err := ForgetGone(url); err != nil {
		t.Fatal(err)
	}
	s, err = Open(context.Background(), url)
	if err != nil {
		t.Fatalf("after ForgetGone: %v", err)
	}
	defer s.Close()
	if list, err := s.ListMeasurements(context.Background(), Filter{}); err != nil || len(list) != 0 {
		t.Fatalf("the new store holds %v (%v), want it empty", list, err)
	}
}
