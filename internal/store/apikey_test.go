package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestAPIKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		plain, k, err := s.CreateAPIKey(ctx, "ci pipeline", false)
		if err != nil {
			t.Fatalf("CreateAPIKey: %v", err)
		}
		if !strings.HasPrefix(plain, "dss_") || len(plain) != 4+52 {
			t.Errorf("plaintext %q: want dss_ and 52 base32 characters", plain)
		}
		if !strings.HasPrefix(plain, k.Prefix) || len(k.Prefix) < 8 {
			t.Errorf("prefix %q does not start the key %q", k.Prefix, plain)
		}
		admPlain, adm, err := s.CreateAPIKey(ctx, "ops", true)
		if err != nil {
			t.Fatal(err)
		}
		if plain == admPlain || k.ID == adm.ID {
			t.Fatal("two keys share a plaintext or an id")
		}

		got, err := s.LookupAPIKey(ctx, plain)
		if err != nil {
			t.Fatalf("LookupAPIKey: %v", err)
		}
		if got.ID != k.ID || got.Name != "ci pipeline" || got.Admin || got.LastUsedAt.IsZero() {
			t.Errorf("LookupAPIKey = %+v, want id %s, not admin, last used set", got, k.ID)
		}
		got, err = s.LookupAPIKey(ctx, admPlain)
		if err != nil || !got.Admin {
			t.Errorf("LookupAPIKey(admin) = %+v, %v; want an admin key", got, err)
		}

		list, err := s.ListAPIKeys(ctx)
		if err != nil || len(list) != 2 {
			t.Fatalf("ListAPIKeys = %v, %v; want 2 keys", list, err)
		}
		if list[0].ID != k.ID || list[0].LastUsedAt.IsZero() || !list[1].Admin {
			t.Errorf("ListAPIKeys = %+v; want the plain key first with its use recorded, then the admin key", list)
		}
	})
}

func TestAPIKeyUnknownAndRevoked(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		plain, k, err := s.CreateAPIKey(ctx, "temp", false)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"", "dss_", plain[:len(plain)-1], plain + "a", strings.ToUpper(plain), strings.TrimPrefix(plain, "dss_")} {
			if _, err := s.LookupAPIKey(ctx, bad); !errors.Is(err, ErrNotFound) {
				t.Errorf("LookupAPIKey(%q) error = %v, want ErrNotFound", bad, err)
			}
		}
		if err := s.RevokeAPIKey(ctx, k.ID); err != nil {
			t.Fatalf("RevokeAPIKey: %v", err)
		}
		if _, err := s.LookupAPIKey(ctx, plain); !errors.Is(err, ErrNotFound) {
			t.Errorf("LookupAPIKey(revoked) error = %v, want ErrNotFound", err)
		}
		list, _ := s.ListAPIKeys(ctx)
		if len(list) != 1 || list[0].RevokedAt.IsZero() {
			t.Fatalf("ListAPIKeys = %+v, want the key with RevokedAt set", list)
		}
		revokedAt := list[0].RevokedAt
		if err := s.RevokeAPIKey(ctx, k.ID); err != nil {
			t.Errorf("revoking again: %v, want nil", err)
		}
		if list, _ := s.ListAPIKeys(ctx); !list[0].RevokedAt.Equal(revokedAt) {
			t.Errorf("revoking again moved RevokedAt from %v to %v", revokedAt, list[0].RevokedAt)
		}
		if err := s.RevokeAPIKey(ctx, "nosuchkey"); !errors.Is(err, ErrNotFound) {
			t.Errorf("RevokeAPIKey(unknown) error = %v, want ErrNotFound", err)
		}
		if _, _, err := s.CreateAPIKey(ctx, "  ", false); !errors.Is(err, ErrInvalid) {
			t.Errorf("CreateAPIKey(blank name) error = %v, want ErrInvalid", err)
		}
	})
}

// TestAPIKeyNeverStoredInPlain reads every column of every api_keys row, and
// for SQLite the database files' bytes, and requires that no part of the
// plaintext key is there while its SHA-256 hash is.
func TestAPIKeyNeverStoredInPlain(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		plain, _, err := s.CreateAPIKey(ctx, "secret-holder", true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.LookupAPIKey(ctx, plain); err != nil {
			t.Fatal(err)
		}
		secret := strings.TrimPrefix(plain, "dss_")[6:] // what Prefix does not show
		dump := dumpAPIKeys(t, s)
		if strings.Contains(dump, secret) {
			t.Errorf("api_keys holds the secret part of the key: %s", dump)
		}
		if !strings.Contains(dump, hashKey(plain)) {
			t.Errorf("api_keys does not hold the key's hash %s: %s", hashKey(plain), dump)
		}
		if s.path == "" {
			return
		}
		var files []byte
		for _, p := range []string{s.path, s.path + "-wal"} {
			b, err := os.ReadFile(p)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			files = append(files, b...)
		}
		if bytes.Contains(files, []byte(secret)) {
			t.Error("the SQLite files hold the secret part of the key")
		}
		if !bytes.Contains(files, []byte(hashKey(plain))) {
			t.Error("the SQLite files do not hold the key's hash: is this test reading the right files?")
		}
	})
}

// dumpAPIKeys returns every value of every api_keys row as text.
func dumpAPIKeys(t *testing.T, s *Store) string {
	t.Helper()
	rows, err := s.r.Query("SELECT * FROM api_keys")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%v|", v)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestAPIKeyLastUsedIsCheap(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		plain, _, err := s.CreateAPIKey(ctx, "busy", false)
		if err != nil {
			t.Fatal(err)
		}
		first, err := s.LookupAPIKey(ctx, plain)
		if err != nil {
			t.Fatal(err)
		}
		second, err := s.LookupAPIKey(ctx, plain)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first.LastUsedAt, second.LastUsedAt) {
			t.Errorf("a second use within %v moved LastUsedAt from %v to %v; want one write per %v",
				lastUsedResolution, first.LastUsedAt, second.LastUsedAt, lastUsedResolution)
		}
		// An older recorded use is refreshed.
		old := time.Now().Add(-2 * lastUsedResolution)
		if _, err := s.w.Exec(s.q("UPDATE api_keys SET last_used_at = ?"), old.UnixMicro()); err != nil {
			t.Fatal(err)
		}
		third, err := s.LookupAPIKey(ctx, plain)
		if err != nil {
			t.Fatal(err)
		}
		if !third.LastUsedAt.After(old.Add(lastUsedResolution)) {
			t.Errorf("LastUsedAt = %v after a use, want it refreshed from %v", third.LastUsedAt, old)
		}
	})
}
