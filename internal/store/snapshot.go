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

// Snapshot is a stored snapshot of a domain's records: the document
// (internal/snapshot's JSON) and the facts lists show without reading it.
type Snapshot struct {
	// ID is set by CreateSnapshot.
	ID string `json:"id"`
	// Domain is fully qualified and lower case. Required.
	Domain  string    `json:"domain"`
	TakenAt time.Time `json:"taken_at"`
	// Method is how it was taken (axfr, names). Required.
	Method  string `json:"method"`
	Serial  uint32 `json:"serial"`
	RRsets  int    `json:"rrsets"`
	Records int    `json:"records"`
	// Source says who took it: cli, api, schedule.
	Source string `json:"source,omitempty"`
	// ClientID is who asked (as Measurement.ClientID).
	ClientID string `json:"-"`
	// Data is the snapshot document; lists leave it out.
	Data json.RawMessage `json:"-"`
}

// MaxSnapshotList bounds ListSnapshots.
const MaxSnapshotList = 500

const snapshotColumns = "id, domain, taken_at, method, serial, rrsets, records, source, client_id"

// CreateSnapshot stores a snapshot and sets its ID.
func (s *Store) CreateSnapshot(ctx context.Context, sn *Snapshot) error {
	defer s.observe("create_snapshot", time.Now())
	if sn.Domain == "" || sn.Method == "" || !json.Valid(sn.Data) {
		return fmt.Errorf("storing snapshot: domain, method and a JSON document are required: %w", ErrInvalid)
	}
	if sn.ID == "" {
		sn.ID = newID()
	}
	if sn.TakenAt.IsZero() {
		sn.TakenAt = now()
	}
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO snapshots (`+snapshotColumns+`, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		sn.ID, sn.Domain, sn.TakenAt.UTC().UnixMicro(), sn.Method, int64(sn.Serial), sn.RRsets, sn.Records, sn.Source, sn.ClientID, string(sn.Data))
	if err != nil {
		return fmt.Errorf("storing snapshot of %s: %w", sn.Domain, err)
	}
	return nil
}

func scanSnapshot(sc scanner, data *string) (*Snapshot, error) {
	var (
		sn            Snapshot
		taken, serial int64
	)
	dest := []any{&sn.ID, &sn.Domain, &taken, &sn.Method, &serial, &sn.RRsets, &sn.Records, &sn.Source, &sn.ClientID}
	if data != nil {
		dest = append(dest, data)
	}
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	sn.TakenAt = time.UnixMicro(taken).UTC()
	sn.Serial = uint32(serial)
	if data != nil {
		sn.Data = json.RawMessage(*data)
	}
	return &sn, nil
}

// GetSnapshot reads one snapshot with its document; ErrNotFound when
// there is none with the id.
func (s *Store) GetSnapshot(ctx context.Context, id string) (*Snapshot, error) {
	defer s.observe("get_snapshot", time.Now())
	var data string
	sn, err := scanSnapshot(s.r.QueryRowContext(ctx, s.q("SELECT "+snapshotColumns+", data FROM snapshots WHERE id = ?"), id), &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("snapshot %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading snapshot %s: %w", id, err)
	}
	return sn, nil
}

// LatestSnapshot reads the newest snapshot of domain with its document;
// ErrNotFound when the domain has none.
func (s *Store) LatestSnapshot(ctx context.Context, domain string) (*Snapshot, error) {
	defer s.observe("latest_snapshot", time.Now())
	var data string
	sn, err := scanSnapshot(s.r.QueryRowContext(ctx, s.q("SELECT "+snapshotColumns+", data FROM snapshots WHERE domain = ? ORDER BY taken_at DESC, id DESC LIMIT 1"), domain), &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("snapshot of %s: %w", domain, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the latest snapshot of %s: %w", domain, err)
	}
	return sn, nil
}

// SnapshotFilter selects the snapshots ListSnapshots lists.
type SnapshotFilter struct {
	// Domain selects one domain's snapshots (every domain when empty).
	Domain string
	// ClientID selects one client's snapshots (every client's when
	// Owned is false).
	ClientID string
	Owned    bool
	// Limit is capped at MaxSnapshotList (0 means the cap).
	Limit int
}

// ListSnapshots lists the snapshots f selects, newest first, without
// their documents.
func (s *Store) ListSnapshots(ctx context.Context, f SnapshotFilter) ([]Snapshot, error) {
	defer s.observe("list_snapshots", time.Now())
	limit := f.Limit
	if limit <= 0 || limit > MaxSnapshotList {
		limit = MaxSnapshotList
	}
	var where []string
	var args []any
	if f.Domain != "" {
		where, args = append(where, "domain = ?"), append(args, f.Domain)
	}
	if f.Owned {
		where, args = append(where, "client_id = ?"), append(args, f.ClientID)
	}
	query := "SELECT " + snapshotColumns + " FROM snapshots"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.r.QueryContext(ctx, s.q(query+" ORDER BY taken_at DESC, id DESC LIMIT ?"), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("listing snapshots: %w", err)
	}
	defer rows.Close()
	out := []Snapshot{}
	for rows.Next() {
		sn, err := scanSnapshot(rows, nil)
		if err != nil {
			return nil, fmt.Errorf("listing snapshots: %w", err)
		}
		out = append(out, *sn)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing snapshots: %w", err)
	}
	return out, nil
}
