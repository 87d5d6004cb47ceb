package store

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNULIsRefusedOnBothDialects is issue 12's case 8: a NUL byte in a
// target (or in options or a result, as \u0000) is refused as invalid on
// SQLite and PostgreSQL alike, so every SQLite backup restores into
// PostgreSQL.
func TestNULIsRefusedOnBothDialects(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		for name, m := range map[string]*Measurement{
			"target":  {Type: "dns", Target: "a\x00.example"},
			"options": {Type: "dns", Target: "example.com", Options: json.RawMessage(`{"q":"a\u0000"}`)},
			"result":  {Type: "dns", Target: "example.com", Status: StatusFinished, Result: json.RawMessage(`["\u0000"]`)},
		} {
			if err := s.CreateMeasurement(ctx, m); !errors.Is(err, ErrInvalid) {
				t.Errorf("NUL in %s: %v, want ErrInvalid", name, err)
			}
		}
		m := &Measurement{Type: "dns", Target: "example.com"}
		if err := s.CreateMeasurement(ctx, m); err != nil {
			t.Fatal(err)
		}
		m.Status, m.Result = StatusFinished, json.RawMessage(`{"body":"x\u0000y"}`)
		if err := s.UpdateMeasurement(ctx, m); !errors.Is(err, ErrInvalid) {
			t.Errorf("NUL in an updated result: %v, want ErrInvalid", err)
		}
	})
}

// TestFailUnfinished: queued and running rows end as failed with the
// reason; finished and failed ones are left alone.
func TestFailUnfinished(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		ms := seed(t, s, 4, time.Now().Add(-time.Hour)) // queued and finished
		ms[0].Status = StatusRunning
		if err := s.UpdateMeasurement(ctx, ms[0]); err != nil {
			t.Fatal(err)
		}
		n, err := s.FailUnfinished(ctx, "interrupted: test")
		if err != nil || n != 2 {
			t.Fatalf("FailUnfinished: %d %v, want 2", n, err)
		}
		for i, m := range ms {
			got, err := s.GetMeasurement(ctx, m.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := map[bool]string{true: StatusFailed, false: StatusFinished}[i%2 == 0]
			if got.Status != want || (want == StatusFailed && (got.Error != "interrupted: test" || got.FinishedAt.IsZero())) {
				t.Errorf("%d: %s %q, want %s", i, got.Status, got.Error, want)
			}
		}
	})
}

// TestListFiltersByClientAndTruncates: a list of one client's
// measurements leaves out results over MaxResult, marked truncated.
func TestListFiltersByClientAndTruncates(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		for i, c := range []string{"key:a", "key:b", "key:a"} {
			res := json.RawMessage(`{"n":` + strings.Repeat("1", 1+i*100) + `}`)
			if err := s.CreateMeasurement(ctx, &Measurement{Type: "dns", Target: "example.com", Status: StatusFinished, Result: res, ClientID: c}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.ListMeasurements(ctx, Filter{ClientID: "key:a", MaxResult: 50})
		if err != nil || len(got) != 2 {
			t.Fatalf("key:a's list: %d %v, want 2", len(got), err)
		}
		for _, m := range got {
			big := len(m.Result) == 0
			if m.ClientID != "key:a" || m.ResultTruncated != big {
				t.Errorf("%s: client %s truncated=%v result %d bytes", m.ID, m.ClientID, m.ResultTruncated, len(m.Result))
			}
		}
		if got[0].ResultTruncated == got[1].ResultTruncated {
			t.Error("want one truncated (201 characters) and one whole (9)")
		}
	})
}

// TestDeletedFileRefusesWrites: writes into a deleted or replaced SQLite
// file fail as ErrUnavailable and never recreate it; files are 0600.
func TestDeletedFileRefusesWrites(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), DefaultFileName)
	s := openStore(t, "sqlite://"+path)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new database: %v %v, want 0600", fi.Mode(), err)
	}
	ctx := context.Background()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	if err := s.CreateMeasurement(ctx, &Measurement{Type: "dns", Target: "example.com"}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("write after deletion: %v, want ErrUnavailable", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, ErrUnavailable) {
		t.Errorf("ping after deletion: %v, want ErrUnavailable", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the file is back (%v), want it left deleted", err)
	}
	// A replaced file is refused too.
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateMeasurement(ctx, &Measurement{Type: "dns", Target: "example.com"}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("write after replacement: %v, want ErrUnavailable", err)
	}
}
