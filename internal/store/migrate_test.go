package store

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
)

// appliedMigrations returns the highest version in schema_migrations,
// checking that every migration the binary has is recorded once.
func appliedMigrations(t *testing.T, s *Store) int {
	t.Helper()
	ms, err := migrations(s.dialect)
	if err != nil {
		t.Fatal(err)
	}
	var n, maxV int
	if err := s.r.QueryRow("SELECT COUNT(*), MAX(version) FROM schema_migrations").Scan(&n, &maxV); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) {
		t.Errorf("schema_migrations has %d rows, want one per migration (%d)", n, len(ms))
	}
	return maxV
}

func TestMigrationsIdempotent(t *testing.T) {
	if SchemaVersion() < 1 {
		t.Fatalf("SchemaVersion() = %d, want at least 1", SchemaVersion())
	}
	eachBackend(t, func(t *testing.T, s *Store, u string) {
		for range 3 {
			again := openStore(t, u)
			if got := appliedMigrations(t, again); got != SchemaVersion() {
				t.Errorf("after reopening: %d migrations applied, want %d", got, SchemaVersion())
			}
		}
		m := &Measurement{Type: "dns", Target: "example.com"}
		if err := s.CreateMeasurement(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		again := openStore(t, u)
		if _, err := again.GetMeasurement(context.Background(), m.ID); err != nil {
			t.Errorf("reopening lost data: %v", err)
		}
	})
}

// TestMigrationsConcurrentOpen opens one fresh database from several
// goroutines at once: the migration lock must let each migration run once.
func TestMigrationsConcurrentOpen(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			u := b.url(t)
			var wg sync.WaitGroup
			stores := make([]*Store, 4)
			errs := make([]error, 4)
			for i := range stores {
				wg.Go(func() { stores[i], errs[i] = Open(context.Background(), u) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("concurrent Open %d: %v", i, err)
				}
				defer stores[i].Close()
			}
			if got := appliedMigrations(t, stores[0]); got != SchemaVersion() {
				t.Errorf("%d migrations applied, want %d", got, SchemaVersion())
			}
		})
	}
}

func TestMigrationsRefuseNewerSchema(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store, u string) {
		if _, err := s.w.Exec(s.q("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
			SchemaVersion()+1, "9999_future.sql", 0); err != nil {
			t.Fatal(err)
		}
		st, err := Open(context.Background(), u)
		if err == nil {
			st.Close()
			t.Fatal("Open succeeded on a database with a newer schema, want an error")
		}
		if !strings.Contains(err.Error(), "newer than this binary") {
			t.Errorf("error = %v, want it to say the schema is newer than this binary", err)
		}
	})
}

func TestPingFailsWhenDatabaseGone(t *testing.T) {
	ctx := context.Background()
	t.Run("closed", func(t *testing.T) {
		eachBackend(t, func(t *testing.T, s *Store, _ string) {
			if err := s.Ping(ctx); err != nil {
				t.Fatalf("Ping on an open store: %v", err)
			}
			s.Close()
			if err := s.Ping(ctx); err == nil {
				t.Error("Ping after Close succeeded, want an error")
			}
		})
	})
	t.Run("removed", func(t *testing.T) {
		eachBackend(t, func(t *testing.T, s *Store, _ string) {
			if s.path != "" {
				if err := os.Remove(s.path); err != nil {
					t.Fatal(err)
				}
			} else if _, err := s.w.Exec("DROP TABLE schema_migrations, measurements, api_keys"); err != nil {
				t.Fatal(err)
			}
			if err := s.Ping(ctx); err == nil {
				t.Error("Ping after the database was removed succeeded, want an error")
			}
		})
	})
}
