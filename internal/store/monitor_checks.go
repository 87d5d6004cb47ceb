package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrExists: a row with that key is there already.
var ErrExists = errors.New("already exists")

// APICheck is a check made through the API: its id and JSON body.
type APICheck struct {
	ID        string          `json:"id"`
	Body      json.RawMessage `json:"body"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// APIChecks returns every check made through the API, by id.
func (s *Store) APIChecks(ctx context.Context) ([]APICheck, error) {
	defer s.observe("api_checks", time.Now())
	rows, err := s.r.QueryContext(ctx, `SELECT id, body, created_at, updated_at FROM monitor_api_checks ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("reading API checks: %w", err)
	}
	defer rows.Close()
	var out []APICheck
	for rows.Next() {
		var (
			c       APICheck
			body    string
			cr, upd int64
		)
		if err := rows.Scan(&c.ID, &body, &cr, &upd); err != nil {
			return nil, fmt.Errorf("reading API checks: %w", err)
		}
		c.Body, c.CreatedAt, c.UpdatedAt = json.RawMessage(body), time.UnixMicro(cr).UTC(), time.UnixMicro(upd).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading API checks: %w", err)
	}
	return out, nil
}

// CreateAPICheck stores a new check; ErrExists when its id is taken.
func (s *Store) CreateAPICheck(ctx context.Context, id string, body json.RawMessage) (APICheck, error) {
	defer s.observe("create_api_check", time.Now())
	t := now()
	res, err := s.w.ExecContext(ctx, s.q(`INSERT INTO monitor_api_checks (id, body, created_at, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`), id, string(body), t.UnixMicro(), t.UnixMicro())
	if err != nil {
		return APICheck{}, fmt.Errorf("storing check %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return APICheck{}, fmt.Errorf("check %s: %w", id, ErrExists)
	}
	return APICheck{ID: id, Body: body, CreatedAt: t, UpdatedAt: t}, nil
}

// ReplaceAPICheck replaces the body of check id; ErrNotFound when there
// is no such check.
func (s *Store) ReplaceAPICheck(ctx context.Context, id string, body json.RawMessage) error {
	defer s.observe("replace_api_check", time.Now())
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE monitor_api_checks SET body = ?, updated_at = ? WHERE id = ?`),
		string(body), now().UnixMicro(), id)
	if err != nil {
		return fmt.Errorf("changing check %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("check %s: %w", id, ErrNotFound)
	}
	return nil
}

// DeleteAPICheck deletes check id made through the API (its history is
// DeleteMonitorCheck's); ErrNotFound when there is no such check.
func (s *Store) DeleteAPICheck(ctx context.Context, id string) error {
	defer s.observe("delete_api_check", time.Now())
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM monitor_api_checks WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("deleting check %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("check %s: %w", id, ErrNotFound)
	}
	return nil
}
