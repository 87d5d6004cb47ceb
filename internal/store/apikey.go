package store

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// APIKeyPrefix starts every API key, so leaked keys are easy to recognise.
const APIKeyPrefix = "dss_"

// lastUsedResolution: LookupAPIKey records a use only when the recorded one
// is older than this, so a busy key does not turn every request into a write.
const lastUsedResolution = time.Minute

// APIKey describes an API key. The key itself is never stored: only its
// SHA-256 hash, and Prefix, its first characters, for people to recognise it.
type APIKey struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"`
	Admin      bool      `json:"admin"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}

// hashKey returns the stored form of a plaintext key. The key holds 256
// random bits, so a plain (unsalted, fast) hash cannot be reversed.
func hashKey(plaintext string) string {
	sum := sha256.Sum256([]byte(plaintext))
	return hex.EncodeToString(sum[:])
}

// CreateAPIKey makes a new key named name and returns its plaintext (shown
// once: it cannot be recovered) and its description.
func (s *Store) CreateAPIKey(ctx context.Context, name string, admin bool) (string, APIKey, error) {
	defer s.observe("create_api_key", time.Now())
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return "", APIKey{}, fmt.Errorf("creating api key: name must be 1 to 200 characters: %w", ErrInvalid)
	}
	plaintext := APIKeyPrefix + randomToken(32)
	k := APIKey{ID: randomToken(10), Name: name, Prefix: plaintext[:len(APIKeyPrefix)+6],
		Admin: admin, CreatedAt: now()}
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO api_keys (id, name, prefix, hash, admin, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`), k.ID, k.Name, k.Prefix, hashKey(plaintext), k.Admin, k.CreatedAt.UnixMicro())
	if err != nil {
		return "", APIKey{}, fmt.Errorf("creating api key: %w", err)
	}
	return plaintext, k, nil
}

const apiKeyColumns = "id, name, prefix, admin, created_at, last_used_at, revoked_at"

func scanAPIKey(sc scanner, extra ...any) (*APIKey, error) {
	var (
		k                   APIKey
		created             int64
		lastUsed, revokedAt sql.NullInt64
	)
	dest := append([]any{&k.ID, &k.Name, &k.Prefix, &k.Admin, &created, &lastUsed, &revokedAt}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	k.CreatedAt = time.UnixMicro(created).UTC()
	k.LastUsedAt, k.RevokedAt = fromMicros(lastUsed), fromMicros(revokedAt)
	return &k, nil
}

// ListAPIKeys returns every key, revoked ones included, oldest first.
func (s *Store) ListAPIKeys(ctx context.Context) ([]APIKey, error) {
	defer s.observe("list_api_keys", time.Now())
	rows, err := s.r.QueryContext(ctx, "SELECT "+apiKeyColumns+" FROM api_keys ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("listing api keys: %w", err)
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("listing api keys: %w", err)
		}
		out = append(out, *k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing api keys: %w", err)
	}
	return out, nil
}

// RevokeAPIKey revokes the key with id; revoking a revoked key is a no-op.
// It returns ErrNotFound when no key has id.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	defer s.observe("revoke_api_key", time.Now())
	res, err := s.w.ExecContext(ctx, s.q("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?"),
		now().UnixMicro(), id)
	if err != nil {
		return fmt.Errorf("revoking api key %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("api key %s: %w", id, ErrNotFound)
	}
	return nil
}

// LookupAPIKey returns the key whose plaintext is given, and records its use.
// Unknown and revoked keys are ErrNotFound. Keys are found by their hash, so
// the lookup's timing says nothing about how much of a guess was right.
func (s *Store) LookupAPIKey(ctx context.Context, plaintext string) (*APIKey, error) {
	defer s.observe("lookup_api_key", time.Now())
	if !strings.HasPrefix(plaintext, APIKeyPrefix) {
		return nil, fmt.Errorf("api key: %w", ErrNotFound)
	}
	want := hashKey(plaintext)
	var stored string
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+apiKeyColumns+", hash FROM api_keys WHERE hash = ?"), want)
	k, err := scanAPIKey(row, &stored)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("api key: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("looking up api key: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(stored), []byte(want)) != 1 || !k.RevokedAt.IsZero() {
		return nil, fmt.Errorf("api key: %w", ErrNotFound)
	}
	if t := now(); t.Sub(k.LastUsedAt) >= lastUsedResolution {
		if _, err := s.w.ExecContext(ctx, s.q("UPDATE api_keys SET last_used_at = ? WHERE id = ?"), t.UnixMicro(), k.ID); err != nil {
			return nil, fmt.Errorf("recording api key use: %w", err)
		}
		k.LastUsedAt = t
	}
	return k, nil
}
