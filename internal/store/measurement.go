package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Measurement statuses.
const (
	StatusQueued   = "queued"
	StatusRunning  = "running"
	StatusFinished = "finished"
	StatusFailed   = "failed"
)

// Measurement is one measurement of any kind (dns, trace, http ...), its
// request and, once done, its result. Times are UTC at microsecond precision;
// zero values are omitted from JSON.
type Measurement struct {
	// ID is random and URL-safe; CreateMeasurement sets it when empty.
	ID string `json:"id"`
	// Type is the kind of measurement: dns, propagation, trace, geo, tcp,
	// cert, http, ws, diagnose. Required.
	Type string `json:"type"`
	// Target is what was measured (a name, an address, a URL). Required.
	Target string `json:"target"`
	// Options are the kind-specific request options, as given.
	Options json.RawMessage `json:"options,omitempty"`
	// Locations are the ids of the vantage points it runs from.
	Locations []string `json:"locations,omitempty"`
	// Status is queued (the default), running, finished or failed.
	Status string `json:"status"`
	// Error says why a failed measurement failed.
	Error string `json:"error,omitempty"`
	// Result is the engine's JSON result.
	Result json.RawMessage `json:"result,omitempty"`
	// ClientID is who asked and owns it ("key:ID" for an API key, "web:HASH"
	// for an anonymous client's token): lists are filtered by it, and the
	// server shows it to its owner only.
	ClientID string `json:"client_id,omitempty"`
	// ResultTruncated says a list left out a result larger than
	// Filter.MaxResult; the measurement's own route has it whole.
	ResultTruncated bool `json:"result_truncated,omitempty"`
	// Owner is the id of the server process that runs it (see
	// ClaimServer); it is internal, not shown by the API.
	Owner string `json:"-"`
	// CreatedAt is set by CreateMeasurement when zero.
	CreatedAt  time.Time `json:"created_at"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// Filter selects measurements for ListMeasurements. Zero fields do not filter.
type Filter struct {
	Type   string
	Status string
	// Before keeps measurements created strictly before it (for paging:
	// pass the CreatedAt of the last one seen).
	Before time.Time
	// Limit caps the number returned: 0 (or less) means 100; at most 1000.
	Limit int
	// ClientID, when set, keeps only that client's measurements.
	ClientID string
	// MaxResult, when above 0, leaves out results longer than it (in
	// characters), marking them ResultTruncated, so a page's memory stays
	// bounded whatever was stored.
	MaxResult int
}

const measurementColumns = "id, type, target, options, locations, status, error, result, client_id, created_at, started_at, finished_at, owner"

func validStatus(s string) bool {
	switch s {
	case StatusQueued, StatusRunning, StatusFinished, StatusFailed:
		return true
	}
	return false
}

// CreateMeasurement stores m, setting its ID, CreatedAt and Status (queued)
// when empty.
func (s *Store) CreateMeasurement(ctx context.Context, m *Measurement) error {
	defer s.observe("create_measurement", time.Now())
	if m.Type == "" || m.Target == "" {
		return fmt.Errorf("creating measurement: type and target are required: %w", ErrInvalid)
	}
	if m.Status == "" {
		m.Status = StatusQueued
	}
	if m.ID == "" {
		m.ID = newID()
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now()
	}
	if err := normalise(m); err != nil {
		return fmt.Errorf("creating measurement: %w", err)
	}
	args, err := measurementArgs(m)
	if err != nil {
		return fmt.Errorf("creating measurement: %w", err)
	}
	if err := s.checkFile(); err != nil {
		return fmt.Errorf("creating measurement: %w", err)
	}
	_, err = s.w.ExecContext(ctx, s.q("INSERT INTO measurements ("+measurementColumns+
		") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), args...)
	if err != nil {
		return fmt.Errorf("creating measurement: %w", unavailable(err))
	}
	return nil
}

// normalise checks m's status and text and rounds its times to the
// store's precision.
func normalise(m *Measurement) error {
	if !validStatus(m.Status) {
		return fmt.Errorf("status %q: want queued, running, finished or failed: %w", m.Status, ErrInvalid)
	}
	for _, f := range []struct{ name, v string }{{"type", m.Type}, {"target", m.Target}, {"options", string(m.Options)},
		{"error", m.Error}, {"result", string(m.Result)}, {"client_id", m.ClientID}, {"owner", m.Owner}} {
		if err := checkText(f.name, f.v); err != nil {
			return err
		}
	}
	for _, raw := range []json.RawMessage{m.Options, m.Result} {
		if len(raw) > 0 && !json.Valid(raw) {
			return fmt.Errorf("options or result is not valid JSON: %w", ErrInvalid)
		}
	}
	for _, t := range []*time.Time{&m.CreatedAt, &m.StartedAt, &m.FinishedAt} {
		if !t.IsZero() {
			*t = t.UTC().Truncate(time.Microsecond)
		}
	}
	return nil
}

// measurementArgs returns m's column values in measurementColumns order.
func measurementArgs(m *Measurement) ([]any, error) {
	var locations sql.NullString
	if len(m.Locations) > 0 {
		b, err := json.Marshal(m.Locations)
		if err != nil {
			return nil, err
		}
		locations = sql.NullString{String: string(b), Valid: true}
	}
	return []any{m.ID, m.Type, m.Target, nullJSON(m.Options), locations, m.Status, m.Error,
		nullJSON(m.Result), m.ClientID, m.CreatedAt.UnixMicro(), micros(m.StartedAt), micros(m.FinishedAt), m.Owner}, nil
}

func nullJSON(raw json.RawMessage) sql.NullString {
	if len(raw) == 0 {
		return sql.NullString{}
	}
	return sql.NullString{String: string(raw), Valid: true}
}

// UpdateMeasurement stores m's status, error, result and start and finish
// times. It returns ErrNotFound when no measurement has m.ID.
func (s *Store) UpdateMeasurement(ctx context.Context, m *Measurement) error {
	defer s.observe("update_measurement", time.Now())
	if err := normalise(m); err != nil {
		return fmt.Errorf("updating measurement %s: %w", m.ID, err)
	}
	if err := s.checkFile(); err != nil {
		return fmt.Errorf("updating measurement %s: %w", m.ID, err)
	}
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE measurements SET status = ?, error = ?, result = ?,
		started_at = ?, finished_at = ? WHERE id = ?`),
		m.Status, m.Error, nullJSON(m.Result), micros(m.StartedAt), micros(m.FinishedAt), m.ID)
	if err != nil {
		return fmt.Errorf("updating measurement %s: %w", m.ID, unavailable(err))
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("updating measurement %s: %w", m.ID, ErrNotFound)
	}
	return nil
}

// GetMeasurement returns the measurement with id, or ErrNotFound.
func (s *Store) GetMeasurement(ctx context.Context, id string) (*Measurement, error) {
	defer s.observe("get_measurement", time.Now())
	row := s.r.QueryRowContext(ctx, s.q("SELECT "+measurementColumns+" FROM measurements WHERE id = ?"), id)
	m, err := scanMeasurement(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("measurement %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("getting measurement %s: %w", id, unavailable(err))
	}
	return m, nil
}

// ListMeasurements returns measurements matching f, newest first.
func (s *Store) ListMeasurements(ctx context.Context, f Filter) ([]Measurement, error) {
	var out []Measurement
	err := s.EachMeasurement(ctx, f, func(m *Measurement) error {
		out = append(out, *m)
		return nil
	})
	return out, err
}

// EachMeasurement calls fn with each measurement matching f, newest first,
// one row at a time, so a caller can stream a page without holding it.
func (s *Store) EachMeasurement(ctx context.Context, f Filter, fn func(*Measurement) error) error {
	defer s.observe("list_measurements", time.Now())
	var where []string
	var args []any
	if f.Type != "" {
		where, args = append(where, "type = ?"), append(args, f.Type)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.ClientID != "" {
		where, args = append(where, "client_id = ?"), append(args, f.ClientID)
	}
	if !f.Before.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, f.Before.UnixMicro())
	}
	cols := measurementColumns + ", FALSE"
	if f.MaxResult > 0 {
		cols = strings.Replace(measurementColumns, "result", fmt.Sprintf("CASE WHEN LENGTH(result) > %d THEN NULL ELSE result END", f.MaxResult), 1) +
			fmt.Sprintf(", COALESCE(LENGTH(result) > %d, FALSE)", f.MaxResult)
	}
	query := "SELECT " + cols + " FROM measurements"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY created_at DESC, id DESC"
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	query += fmt.Sprintf(" LIMIT %d", min(limit, 1000))
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return fmt.Errorf("listing measurements: %w", unavailable(err))
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMeasurement(rows, &truncatedScan{})
		if err != nil {
			return fmt.Errorf("listing measurements: %w", err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("listing measurements: %w", unavailable(err))
	}
	return nil
}

// FailUnfinished marks every queued or running measurement failed with
// reason: at start-up, none of them can still be running in this process
// (it was killed, or its machine lost power). It returns how many.
func (s *Store) FailUnfinished(ctx context.Context, reason string) (int64, error) {
	defer s.observe("fail_unfinished", time.Now())
	if err := s.checkFile(); err != nil {
		return 0, fmt.Errorf("failing unfinished measurements: %w", err)
	}
	res, err := s.w.ExecContext(ctx, s.q("UPDATE measurements SET status = ?, error = ?, finished_at = ? WHERE status IN (?, ?)"),
		StatusFailed, reason, now().UnixMicro(), StatusQueued, StatusRunning)
	if err != nil {
		return 0, fmt.Errorf("failing unfinished measurements: %w", unavailable(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("failing unfinished measurements: %w", err)
	}
	return n, nil
}

// DeleteMeasurementsBefore deletes measurements created before t (retention)
// and returns how many it deleted.
func (s *Store) DeleteMeasurementsBefore(ctx context.Context, t time.Time) (int64, error) {
	defer s.observe("delete_measurements", time.Now())
	res, err := s.w.ExecContext(ctx, s.q("DELETE FROM measurements WHERE created_at < ?"), t.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("deleting measurements before %s: %w", t.Format(time.RFC3339), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("deleting measurements before %s: %w", t.Format(time.RFC3339), err)
	}
	return n, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// truncatedScan receives the extra column of EachMeasurement.
type truncatedScan struct{ v bool }

func scanMeasurement(sc scanner, extra ...*truncatedScan) (*Measurement, error) {
	var (
		m                       Measurement
		options, locations, res sql.NullString
		created                 int64
		started, finished       sql.NullInt64
	)
	dest := []any{&m.ID, &m.Type, &m.Target, &options, &locations, &m.Status, &m.Error,
		&res, &m.ClientID, &created, &started, &finished, &m.Owner}
	for _, e := range extra {
		dest = append(dest, &e.v)
	}
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	for _, e := range extra {
		m.ResultTruncated = e.v
	}
	if options.Valid {
		m.Options = json.RawMessage(options.String)
	}
	if res.Valid {
		m.Result = json.RawMessage(res.String)
	}
	if locations.Valid {
		if err := json.Unmarshal([]byte(locations.String), &m.Locations); err != nil {
			return nil, fmt.Errorf("measurement %s: locations: %w", m.ID, err)
		}
	}
	m.CreatedAt = time.UnixMicro(created).UTC()
	m.StartedAt, m.FinishedAt = fromMicros(started), fromMicros(finished)
	return &m, nil
}
