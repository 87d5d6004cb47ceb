package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Statuses of a notification in the outbox.
const (
	NotePending   = "pending"
	NoteDelivered = "delivered"
	NoteDead      = "dead" // gave up: a dead letter, retried by hand
	NoteSilenced  = "silenced"
)

// Notification is one message to one channel about one state change of a
// check at a location, kept in the outbox until delivered.
type Notification struct {
	Seq int64 `json:"seq"`
	// Key is stable for the check, location, transition and channel: the
	// receivers' idempotency key. Adding a key already stored does nothing.
	Key          string          `json:"idempotency_key"`
	CheckID      string          `json:"check"`
	Location     string          `json:"location"`
	Channel      string          `json:"channel"`
	Event        string          `json:"event"` // trigger, resolve, reminder, test
	TransitionAt time.Time       `json:"transition_at"`
	Payload      json.RawMessage `json:"payload"`
	Status       string          `json:"status"`
	Attempts     int             `json:"attempts"`
	NextAttempt  time.Time       `json:"next_attempt"`
	LastError    string          `json:"last_error,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
	DeliveredAt  time.Time       `json:"delivered_at,omitzero"`
}

const noteColumns = "seq, idem_key, check_id, location, channel, event, transition_at, payload, status, attempts, next_attempt, last_error, created_at, delivered_at"

func (s *Store) saveNotifications(ctx context.Context, tx *sql.Tx, b *MonitorBatch) error {
	return s.insertNotifications(ctx, tx, b.Notifications)
}

func (s *Store) insertNotifications(ctx context.Context, tx *sql.Tx, ns []Notification) error {
	if len(ns) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, s.q(`INSERT INTO alert_outbox (idem_key, check_id, location, channel, event, transition_at, payload, status, next_attempt, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idem_key) DO NOTHING`))
	if err != nil {
		return err
	}
	defer st.Close()
	for _, n := range ns {
		if n.Key == "" || n.Channel == "" || len(n.Payload) == 0 {
			return fmt.Errorf("notification without key, channel or payload: %w", ErrInvalid)
		}
		status := n.Status
		if status == "" {
			status = NotePending
		}
		if _, err := st.ExecContext(ctx, n.Key, n.CheckID, n.Location, n.Channel, n.Event, n.TransitionAt.UnixMicro(), string(n.Payload),
			status, n.NextAttempt.UnixMicro(), n.CreatedAt.UnixMicro()); err != nil {
			return err
		}
	}
	return nil
}

// AddNotifications writes notifications to the outbox outside a monitor
// batch (test messages, one-shot runs); keys already stored are skipped.
func (s *Store) AddNotifications(ctx context.Context, ns []Notification) error {
	defer s.observe("add_notifications", time.Now())
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("adding notifications: %w", err)
	}
	defer tx.Rollback()
	if err := s.insertNotifications(ctx, tx, ns); err != nil {
		return fmt.Errorf("adding notifications: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("adding notifications: %w", err)
	}
	return nil
}

// ClaimNotifications leases up to limit pending notifications due at now to
// owner until now+lease, oldest first, and returns them. A notification is
// not claimed while an earlier one of the same check, location and channel
// is pending, so each check's deliveries keep their order. Several
// processes on one PostgreSQL claim disjoint rows (row locks, SKIP LOCKED);
// a lease that runs out (a worker killed) frees the rows again.
func (s *Store) ClaimNotifications(ctx context.Context, now time.Time, lease time.Duration, owner string, limit int) ([]Notification, error) {
	defer s.observe("claim_notifications", time.Now())
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claiming notifications: %w", err)
	}
	defer tx.Rollback()
	lock := ""
	if s.dialect == DialectPostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT `+noteColumns+` FROM alert_outbox o
		WHERE o.status = 'pending' AND o.next_attempt <= ? AND o.claimed_until < ?
		AND NOT EXISTS (SELECT 1 FROM alert_outbox p WHERE p.check_id = o.check_id AND p.location = o.location
			AND p.channel = o.channel AND p.status = 'pending' AND p.seq < o.seq)
		ORDER BY o.seq LIMIT ?`+lock), now.UnixMicro(), now.UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("claiming notifications: %w", err)
	}
	out, err := scanNotifications(rows)
	if err != nil {
		return nil, fmt.Errorf("claiming notifications: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	seqs := make([]any, 0, len(out)+2)
	seqs = append(seqs, now.Add(lease).UnixMicro(), owner)
	for _, n := range out {
		seqs = append(seqs, n.Seq)
	}
	in := strings.TrimSuffix(strings.Repeat("?, ", len(out)), ", ")
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE alert_outbox SET claimed_until = ?, claimed_by = ? WHERE seq IN (`+in+`)`), seqs...); err != nil {
		return nil, fmt.Errorf("claiming notifications: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claiming notifications: %w", err)
	}
	return out, nil
}

// NotificationUpdate is the outcome of a delivery attempt.
type NotificationUpdate struct {
	Status      string // pending (retry at NextAttempt), delivered, dead or silenced
	Attempts    int
	NextAttempt time.Time
	LastError   string
	DeliveredAt time.Time
}

// FinishNotification records an attempt of a notification claimed by
// owner and releases the lease; ErrNotFound when owner no longer holds it.
func (s *Store) FinishNotification(ctx context.Context, seq int64, owner string, u NotificationUpdate) error {
	defer s.observe("finish_notification", time.Now())
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE alert_outbox SET status = ?, attempts = ?, next_attempt = ?, last_error = ?, delivered_at = ?,
		claimed_until = 0, claimed_by = '' WHERE seq = ? AND claimed_by = ?`),
		u.Status, u.Attempts, u.NextAttempt.UnixMicro(), u.LastError, micros(u.DeliveredAt), seq, owner)
	if err != nil {
		return fmt.Errorf("recording delivery of notification %d: %w", seq, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("recording delivery of notification %d: lease lost: %w", seq, ErrNotFound)
	}
	return nil
}

// Notifications lists a check's notifications, newest first, at most limit.
func (s *Store) Notifications(ctx context.Context, checkID string, limit int) ([]Notification, error) {
	defer s.observe("notifications", time.Now())
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+noteColumns+` FROM alert_outbox WHERE check_id = ? ORDER BY seq DESC LIMIT ?`), checkID, limit)
	if err != nil {
		return nil, fmt.Errorf("reading notifications of %s: %w", checkID, err)
	}
	out, err := scanNotifications(rows)
	if err != nil {
		return nil, fmt.Errorf("reading notifications of %s: %w", checkID, err)
	}
	return out, nil
}

// DeadNotifications lists the dead letters, newest first, at most limit.
func (s *Store) DeadNotifications(ctx context.Context, limit int) ([]Notification, error) {
	defer s.observe("dead_notifications", time.Now())
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+noteColumns+` FROM alert_outbox WHERE status = 'dead' ORDER BY seq DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("reading dead notifications: %w", err)
	}
	out, err := scanNotifications(rows)
	if err != nil {
		return nil, fmt.Errorf("reading dead notifications: %w", err)
	}
	return out, nil
}

// RetryNotification makes a dead letter pending again, due at now with its
// attempts reset; ErrNotFound when seq is not a dead letter.
func (s *Store) RetryNotification(ctx context.Context, seq int64, now time.Time) error {
	defer s.observe("retry_notification", time.Now())
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE alert_outbox SET status = 'pending', attempts = 0, next_attempt = ?, claimed_until = 0, claimed_by = ''
		WHERE seq = ? AND status = 'dead'`), now.UnixMicro(), seq)
	if err != nil {
		return fmt.Errorf("retrying notification %d: %w", seq, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("retrying notification %d: no such dead notification: %w", seq, ErrNotFound)
	}
	return nil
}

func scanNotifications(rows *sql.Rows) ([]Notification, error) {
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var (
			n                   Notification
			trAt, next, created int64
			payload             string
			delivered           sql.NullInt64
		)
		if err := rows.Scan(&n.Seq, &n.Key, &n.CheckID, &n.Location, &n.Channel, &n.Event, &trAt, &payload, &n.Status, &n.Attempts,
			&next, &n.LastError, &created, &delivered); err != nil {
			return nil, err
		}
		n.TransitionAt, n.NextAttempt, n.CreatedAt = time.UnixMicro(trAt).UTC(), time.UnixMicro(next).UTC(), time.UnixMicro(created).UTC()
		n.DeliveredAt, n.Payload = fromMicros(delivered), json.RawMessage(payload)
		out = append(out, n)
	}
	return out, rows.Err()
}

// Silence stops notifications of a check (empty: every check) to a
// channel (empty: every channel) until it expires.
type Silence struct {
	ID        string    `json:"id"`
	CheckID   string    `json:"check,omitempty"`
	Channel   string    `json:"channel,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Matches reports whether the silence covers a notification of check to
// channel at t.
func (s Silence) Matches(checkID, channel string, t time.Time) bool {
	return (s.CheckID == "" || s.CheckID == checkID) && (s.Channel == "" || s.Channel == channel) && t.Before(s.ExpiresAt)
}

// AddSilence stores a silence and returns it with its id.
func (s *Store) AddSilence(ctx context.Context, si Silence) (Silence, error) {
	defer s.observe("add_silence", time.Now())
	if si.ExpiresAt.IsZero() {
		return si, fmt.Errorf("adding silence: no expiry: %w", ErrInvalid)
	}
	si.ID = newID()
	if si.CreatedAt.IsZero() {
		si.CreatedAt = now()
	}
	if _, err := s.w.ExecContext(ctx, s.q(`INSERT INTO alert_silences (id, check_id, channel, reason, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
		si.ID, si.CheckID, si.Channel, si.Reason, si.CreatedBy, si.CreatedAt.UnixMicro(), si.ExpiresAt.UnixMicro()); err != nil {
		return si, fmt.Errorf("adding silence: %w", err)
	}
	return si, nil
}

// Silences lists the silences that have not expired at now, and deletes
// the expired ones.
func (s *Store) Silences(ctx context.Context, at time.Time) ([]Silence, error) {
	defer s.observe("silences", time.Now())
	if _, err := s.w.ExecContext(ctx, s.q(`DELETE FROM alert_silences WHERE expires_at <= ?`), at.UnixMicro()); err != nil {
		return nil, fmt.Errorf("reading silences: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, check_id, channel, reason, created_by, created_at, expires_at FROM alert_silences ORDER BY expires_at`)
	if err != nil {
		return nil, fmt.Errorf("reading silences: %w", err)
	}
	defer rows.Close()
	var out []Silence
	for rows.Next() {
		var (
			si   Silence
			c, e int64
		)
		if err := rows.Scan(&si.ID, &si.CheckID, &si.Channel, &si.Reason, &si.CreatedBy, &c, &e); err != nil {
			return nil, fmt.Errorf("reading silences: %w", err)
		}
		si.CreatedAt, si.ExpiresAt = time.UnixMicro(c).UTC(), time.UnixMicro(e).UTC()
		out = append(out, si)
	}
	return out, rows.Err()
}

// DeleteSilence deletes a silence; ErrNotFound when there is none with id.
func (s *Store) DeleteSilence(ctx context.Context, id string) error {
	defer s.observe("delete_silence", time.Now())
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM alert_silences WHERE id = ?`), id)
	if err != nil {
		return fmt.Errorf("deleting silence %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("deleting silence %s: %w", id, ErrNotFound)
	}
	return nil
}

// PruneNotifications deletes delivered and silenced notifications made
// before before (pending ones and dead letters stay) and returns how many.
func (s *Store) PruneNotifications(ctx context.Context, before time.Time) (int64, error) {
	defer s.observe("prune_notifications", time.Now())
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM alert_outbox WHERE status IN ('delivered', 'silenced') AND created_at < ?`), before.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("pruning notifications: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
