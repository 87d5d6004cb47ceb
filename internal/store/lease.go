package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrLeaseLost: another process claimed the server id since this one did
// (two servers configured with one id, or a restart while this one was
// cut off from the store).
var ErrLeaseLost = errors.New("server lease taken over by another process")

// ServerLease is a server process's claim on its id: while LeaseUntil is
// in the future its unfinished measurements are its own.
type ServerLease struct {
	ID         string
	Instance   string // random, one per process
	StartedAt  time.Time
	LeaseUntil time.Time
}

// ClaimServer records that this process (instance) is server id until
// until, replacing whatever held the id. It returns the previous holder
// when its lease was still live at now (its predecessor killed moments ago,
// or another process configured with the same id), else nil.
func (s *Store) ClaimServer(ctx context.Context, id, instance string, now, until time.Time) (*ServerLease, error) {
	defer s.observe("claim_server", time.Now())
	if id == "" || instance == "" {
		return nil, fmt.Errorf("claiming server id: an id and an instance are required: %w", ErrInvalid)
	}
	if err := checkText("server id", id); err != nil {
		return nil, fmt.Errorf("claiming server id: %w", err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claiming server id %s: %w", id, unavailable(err))
	}
	defer tx.Rollback()
	var prev ServerLease
	var started, lease int64
	err = tx.QueryRowContext(ctx, s.q("SELECT instance, started_at, lease_until FROM servers WHERE id = ?"), id).Scan(&prev.Instance, &started, &lease)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, s.q("INSERT INTO servers (id, instance, started_at, lease_until) VALUES (?, ?, ?, ?)"),
			id, instance, now.UnixMicro(), until.UnixMicro())
	case err == nil:
		_, err = tx.ExecContext(ctx, s.q("UPDATE servers SET instance = ?, started_at = ?, lease_until = ? WHERE id = ?"),
			instance, now.UnixMicro(), until.UnixMicro(), id)
	}
	if err != nil {
		return nil, fmt.Errorf("claiming server id %s: %w", id, unavailable(err))
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claiming server id %s: %w", id, unavailable(err))
	}
	if prev.Instance == "" || prev.Instance == instance || lease < now.UnixMicro() {
		return nil, nil
	}
	prev.ID, prev.StartedAt, prev.LeaseUntil = id, time.UnixMicro(started).UTC(), time.UnixMicro(lease).UTC()
	return &prev, nil
}

// RenewServer extends this process's lease on id to until; ErrLeaseLost
// when another instance holds the id now.
func (s *Store) RenewServer(ctx context.Context, id, instance string, until time.Time) error {
	defer s.observe("renew_server", time.Now())
	res, err := s.w.ExecContext(ctx, s.q("UPDATE servers SET lease_until = ? WHERE id = ? AND instance = ?"), until.UnixMicro(), id, instance)
	if err != nil {
		return fmt.Errorf("renewing the lease of server %s: %w", id, unavailable(err))
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("renewing the lease of server %s: %w", id, ErrLeaseLost)
	}
	return nil
}

// ReleaseServer ends this process's lease on id (a clean shutdown).
func (s *Store) ReleaseServer(ctx context.Context, id, instance string) error {
	defer s.observe("release_server", time.Now())
	if _, err := s.w.ExecContext(ctx, s.q("DELETE FROM servers WHERE id = ? AND instance = ?"), id, instance); err != nil {
		return fmt.Errorf("releasing server %s: %w", id, unavailable(err))
	}
	return nil
}

// FailOwned marks owner's queued and running measurements failed with
// reason, and those without an owner (stored before servers named
// themselves): at its start-up none of them can still be running. It
// returns how many.
func (s *Store) FailOwned(ctx context.Context, owner, reason string) (int64, error) {
	defer s.observe("fail_owned", time.Now())
	if err := s.checkFile(); err != nil {
		return 0, fmt.Errorf("failing unfinished measurements of server %s: %w", owner, err)
	}
	res, err := s.w.ExecContext(ctx, s.q("UPDATE measurements SET status = ?, error = ?, finished_at = ? WHERE status IN (?, ?) AND owner IN (?, '')"),
		StatusFailed, reason, now().UnixMicro(), StatusQueued, StatusRunning, owner)
	if err != nil {
		return 0, fmt.Errorf("failing unfinished measurements of server %s: %w", owner, unavailable(err))
	}
	return res.RowsAffected()
}

// FailOrphaned marks failed the queued and running measurements of every
// server whose lease ended before now (or that holds none), with
// reason(owner, leaseUntil) (leaseUntil is zero without a lease). The
// check and the update are one statement, so a server renewing its lease
// meanwhile keeps its measurements. It returns how many it failed.
func (s *Store) FailOrphaned(ctx context.Context, now time.Time, reason func(owner string, leaseUntil time.Time) string) (int64, error) {
	defer s.observe("fail_orphaned", time.Now())
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT DISTINCT m.owner, COALESCE(l.lease_until, 0) FROM measurements m
		LEFT JOIN servers l ON l.id = m.owner
		WHERE m.status IN (?, ?) AND m.owner <> '' AND COALESCE(l.lease_until, 0) < ?`), StatusQueued, StatusRunning, now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("finding measurements of lost servers: %w", unavailable(err))
	}
	type orphan struct {
		owner string
		until int64
	}
	var orphans []orphan
	for rows.Next() {
		var o orphan
		if err := rows.Scan(&o.owner, &o.until); err != nil {
			rows.Close()
			return 0, fmt.Errorf("finding measurements of lost servers: %w", err)
		}
		orphans = append(orphans, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("finding measurements of lost servers: %w", unavailable(err))
	}
	var total int64
	for _, o := range orphans {
		var until time.Time
		if o.until > 0 {
			until = time.UnixMicro(o.until).UTC()
		}
		res, err := s.w.ExecContext(ctx, s.q(`UPDATE measurements SET status = ?, error = ?, finished_at = ?
			WHERE status IN (?, ?) AND owner = ? AND NOT EXISTS (SELECT 1 FROM servers WHERE id = ? AND lease_until >= ?)`),
			StatusFailed, reason(o.owner, until), now.UTC().UnixMicro(), StatusQueued, StatusRunning, o.owner, o.owner, now.UnixMicro())
		if err != nil {
			return total, fmt.Errorf("failing measurements of server %s: %w", o.owner, unavailable(err))
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}
