package store

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// AgentTokenPrefix starts every agent token, so leaked tokens are easy to
// recognise.
const AgentTokenPrefix = "dsa_"

// agentName is what an agent's name may be: it is its location id and a
// NATS subject token.
var agentName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// Agent is a remote location's credential and what it announced last. The
// token is never stored: only its SHA-256 hash, and Prefix for people.
type Agent struct {
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"`
	City       string    `json:"city,omitempty"`
	Country    string    `json:"country,omitempty"`
	Latitude   *float64  `json:"latitude"`
	Longitude  *float64  `json:"longitude"`
	ASN        uint32    `json:"asn,omitempty"`
	Version    string    `json:"version,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at,omitzero"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
}

// CheckAgentName says what is wrong with an agent name, or nil.
func CheckAgentName(name string) error {
	if !agentName.MatchString(name) {
		return fmt.Errorf("agent name %q: want 1 to 40 lowercase letters, digits and '-', starting with a letter or digit: %w", name, ErrInvalid)
	}
	return nil
}

// AgentTokenName returns the agent name a token carries.
func AgentTokenName(token string) (string, error) {
	rest, ok := strings.CutPrefix(token, AgentTokenPrefix)
	i := strings.LastIndexByte(rest, '_')
	if !ok || i <= 0 || CheckAgentName(rest[:i]) != nil || len(rest)-i < 20 {
		return "", fmt.Errorf("agent token: want the dsa_NAME_SECRET token that `dnsscience agents add NAME` printed: %w", ErrInvalid)
	}
	return rest[:i], nil
}

// CreateAgent registers an agent and returns its token (shown once).
func (s *Store) CreateAgent(ctx context.Context, name string) (string, Agent, error) {
	defer s.observe("create_agent", time.Now())
	if err := CheckAgentName(name); err != nil {
		return "", Agent{}, fmt.Errorf("creating agent: %w", err)
	}
	// The token names its agent (dsa_NAME_SECRET): the agent learns its
	// name, and so its subjects, from the one thing it is given.
	token := AgentTokenPrefix + name + "_" + randomToken(32)
	a := Agent{Name: name, Prefix: token[:len(AgentTokenPrefix)+len(name)+7], CreatedAt: now()}
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO agents (id, name, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?)`),
		name, name, a.Prefix, hashKey(token), a.CreatedAt.UnixMicro())
	if err != nil {
		if _, gerr := s.GetAgent(ctx, name); gerr == nil {
			return "", Agent{}, fmt.Errorf("creating agent: an agent named %q exists (revoked ones keep their name): %w", name, ErrInvalid)
		}
		return "", Agent{}, fmt.Errorf("creating agent %s: %w", name, err)
	}
	return token, a, nil
}

const agentColumns = "name, prefix, city, country, latitude, longitude, asn, version, created_at, last_seen_at, revoked_at"

func scanAgent(sc scanner, extra ...any) (*Agent, error) {
	var (
		a                   Agent
		lat, lon            sql.NullFloat64
		asn, created        int64
		lastSeen, revokedAt sql.NullInt64
	)
	dest := append([]any{&a.Name, &a.Prefix, &a.City, &a.Country, &lat, &lon, &asn, &a.Version, &created, &lastSeen, &revokedAt}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	if lat.Valid && lon.Valid {
		a.Latitude, a.Longitude = &lat.Float64, &lon.Float64
	}
	a.ASN = uint32(asn)
	a.CreatedAt = time.UnixMicro(created).UTC()
	a.LastSeenAt, a.RevokedAt = fromMicros(lastSeen), fromMicros(revokedAt)
	return &a, nil
}

// ListAgents returns every agent, revoked ones included, by name.
func (s *Store) ListAgents(ctx context.Context) ([]Agent, error) {
	defer s.observe("list_agents", time.Now())
	rows, err := s.r.QueryContext(ctx, "SELECT "+agentColumns+" FROM agents ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("listing agents: %w", err)
	}
	defer rows.Close()
	var out []Agent
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, fmt.Errorf("listing agents: %w", err)
		}
		out = append(out, *a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing agents: %w", err)
	}
	return out, nil
}

// GetAgent reads one agent; ErrNotFound when none has the name.
func (s *Store) GetAgent(ctx context.Context, name string) (*Agent, error) {
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+agentColumns+" FROM agents WHERE name = ?"), name)
	a, err := scanAgent(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("agent %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading agent %s: %w", name, err)
	}
	return a, nil
}

// RevokeAgent revokes an agent's token; revoking twice is a no-op.
// ErrNotFound when no agent has the name.
func (s *Store) RevokeAgent(ctx context.Context, name string) error {
	defer s.observe("revoke_agent", time.Now())
	res, err := s.w.ExecContext(ctx, s.q("UPDATE agents SET revoked_at = COALESCE(revoked_at, ?) WHERE name = ?"), now().UnixMicro(), name)
	if err != nil {
		return fmt.Errorf("revoking agent %s: %w", name, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("agent %s: %w", name, ErrNotFound)
	}
	return nil
}

// AuthenticateAgent returns the agent whose token is given. Unknown and
// revoked tokens are ErrNotFound.
func (s *Store) AuthenticateAgent(ctx context.Context, token string) (*Agent, error) {
	defer s.observe("authenticate_agent", time.Now())
	if !strings.HasPrefix(token, AgentTokenPrefix) {
		return nil, fmt.Errorf("agent token: %w", ErrNotFound)
	}
	want := hashKey(token)
	var stored string
	a, err := scanAgent(s.r.QueryRowContext(ctx, s.q("SELECT "+agentColumns+", hash FROM agents WHERE hash = ?"), want), &stored)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("agent token: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("looking up agent token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(stored), []byte(want)) != 1 || !a.RevokedAt.IsZero() {
		return nil, fmt.Errorf("agent token: %w", ErrNotFound)
	}
	return a, nil
}

// SeenAgent records what an agent announced and when it was last seen.
func (s *Store) SeenAgent(ctx context.Context, a Agent) error {
	defer s.observe("seen_agent", time.Now())
	var lat, lon sql.NullFloat64
	if a.Latitude != nil && a.Longitude != nil {
		lat, lon = sql.NullFloat64{Float64: *a.Latitude, Valid: true}, sql.NullFloat64{Float64: *a.Longitude, Valid: true}
	}
	_, err := s.w.ExecContext(ctx, s.q(`UPDATE agents SET city = ?, country = ?, latitude = ?, longitude = ?, asn = ?, version = ?, last_seen_at = ?
		WHERE name = ?`), a.City, a.Country, lat, lon, int64(a.ASN), a.Version, a.LastSeenAt.UTC().UnixMicro(), a.Name)
	if err != nil {
		return fmt.Errorf("recording agent %s: %w", a.Name, err)
	}
	return nil
}
