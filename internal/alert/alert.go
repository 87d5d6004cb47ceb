// Package alert sends the monitor's state changes to people: a Router turns
// a check's transitions (and reminders while it stays down) into
// notifications, one per channel, that the monitor writes to the store's
// outbox in the same transaction as the state change; a Worker claims due
// notifications (row locks and leases, so several servers on one PostgreSQL
// deliver each once), delivers them through the channel's sender with
// retries and exponential backoff, honours 429/503 Retry-After, and turns
// what it gives up on into dead letters. One file per channel type.
package alert

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/monitor"
	"github.com/dnsscience/dnsscience/internal/store"
)

// Events of a notification.
const (
	EventTrigger  = "trigger"  // the check went down (or degraded, when asked)
	EventResolve  = "resolve"  // it came back
	EventReminder = "reminder" // still down after repeat_interval
	EventTest     = "test"     // dnsscience alert test
	EventSummary  = "summary"  // dnsscience check --notify: a one-shot run below --min-success
)

// Message is what a notification says; it is the outbox payload and the
// body the generic webhook posts (docs/ALERTS.md documents it).
type Message struct {
	Version int    `json:"version"`
	Event   string `json:"event"`
	// Key is the idempotency key (stable across retries and restarts).
	Key      string    `json:"idempotency_key,omitempty"`
	Check    CheckInfo `json:"check"`
	Location string    `json:"location,omitempty"`
	// Status is the check's status now, Previous before the change.
	Status   string    `json:"status,omitempty"`
	Previous string    `json:"previous,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	At       time.Time `json:"at"`
	Since    time.Time `json:"since,omitzero"`
	Severity string    `json:"severity,omitempty"`
	// Failure is the first failing condition with the value read and the
	// layer (phase) that failed.
	Failure *Failure `json:"failure,omitempty"`
	// Link is the check's page when the server's public URL is known.
	Link string `json:"link,omitempty"`
	// Summary is set for a one-shot run's summary (event summary).
	Summary *Summary `json:"summary,omitempty"`
}

// CheckInfo names the check.
type CheckInfo struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Kind   string            `json:"kind,omitempty"`
	Target string            `json:"target,omitempty"`
	Group  string            `json:"group,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
}

// Failure is what failed.
type Failure struct {
	Layer     string `json:"layer,omitempty"`
	Condition string `json:"condition,omitempty"`
	Value     string `json:"value,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Summary totals a one-shot run of a suite.
type Summary struct {
	Passed     int      `json:"passed"`
	Total      int      `json:"total"`
	Rate       float64  `json:"rate_percent"`
	MinSuccess float64  `json:"min_success_percent"`
	Failing    []string `json:"failing,omitempty"`
}

// DedupKey is what PagerDuty and Opsgenie group a check's trigger and
// resolve by.
func (m *Message) DedupKey() string {
	return "dnsscience/" + m.Check.ID + "/" + m.Location
}

// Router decides which notifications a run causes (monitor.Config.Notify).
type Router struct {
	// BaseURL is the server's public URL for links ("" leaves them out).
	BaseURL string

	mu sync.Mutex
	// down is when each down check (id/location) was last notified, for
	// reminders.
	down map[string]time.Time
}

// Notify is monitor.Config.Notify: notifications for the check's channels
// when the run changed its status as the check's alerts ask, or a reminder.
func (r *Router) Notify(run monitor.Run) []store.Notification {
	a := run.Check.Alerts
	if len(a.Channels) == 0 {
		return nil
	}
	k := run.ID + "/" + run.Location
	event, at := "", run.At
	r.mu.Lock()
	if r.down == nil {
		r.down = map[string]time.Time{}
	}
	if tr := run.Transition; tr != nil {
		event, at = eventOf(tr.From, tr.To, a), tr.At
		if tr.To == monitor.StatusDown {
			r.down[k] = at
		}
	} else if last, ok := r.down[k]; run.State.Status == monitor.StatusDown && a.RepeatInterval > 0 {
		switch {
		case !ok: // restarted while down: count from now
			r.down[k] = run.At
		case run.At.Sub(last) >= a.RepeatInterval:
			event, r.down[k] = EventReminder, run.At
		}
	}
	if run.State.Status != monitor.StatusDown {
		delete(r.down, k)
	}
	r.mu.Unlock()
	if event == "" {
		return nil
	}
	msg := r.message(run, event)
	payload, err := json.Marshal(msg)
	if err != nil {
		return nil
	}
	out := make([]store.Notification, 0, len(a.Channels))
	for _, ch := range a.Channels {
		out = append(out, store.Notification{Key: Key(run.ID, run.Location, at, event, ch), CheckID: run.ID, Location: run.Location,
			Channel: ch, Event: event, TransitionAt: at, Payload: payload, NextAttempt: run.At, CreatedAt: run.At})
	}
	return out
}

// eventOf is the event a status change causes under a check's alerts, ""
// for none. Entering or leaving maintenance sends nothing, nor does a
// first result.
func eventOf(from, to string, a check.Alerts) string {
	bad := func(s string) bool {
		return s == monitor.StatusDown || a.OnDegraded && s == monitor.StatusDegraded
	}
	switch {
	case to == monitor.StatusMaintenance:
		return ""
	case bad(to) && !bad(from) || to == monitor.StatusDown && from != monitor.StatusDown:
		return EventTrigger
	case bad(from) && !bad(to) && a.SendOnResolved && from != monitor.StatusMaintenance:
		return EventResolve
	}
	return ""
}

func (r *Router) message(run monitor.Run, event string) Message {
	c := run.Check
	m := Message{Version: 1, Event: event, Check: CheckInfo{ID: run.ID, Name: c.Name, Kind: c.Kind, Target: c.Target, Group: c.Watch.Group, Labels: c.Watch.Labels},
		Location: run.Location, Status: run.State.Status, At: run.At, Since: run.State.Since, Severity: c.Alerts.Severity}
	if tr := run.Transition; tr != nil {
		m.Previous, m.Reason, m.At = tr.From, tr.Reason, tr.At
	}
	if event == EventResolve {
		m.Severity = "info"
	}
	if r.BaseURL != "" {
		m.Link = r.BaseURL + "/checks/" + run.ID
	}
	if l := run.Last; l != nil && event != EventResolve {
		m.Failure = failureOf(l.Phase, l.Error, l.Failed, l.Warned)
	}
	return m
}

func failureOf(phase, errText string, failed, warned []check.Failure) *Failure {
	f := &Failure{Layer: phase, Error: errText}
	switch {
	case len(failed) > 0:
		f.Condition, f.Value = failed[0].Condition, failed[0].Actual
		if f.Error == "" {
			f.Error = failed[0].Error
		}
	case len(warned) > 0:
		f.Condition, f.Value = warned[0].Condition, warned[0].Actual
	}
	if *f == (Failure{}) {
		return nil
	}
	return f
}

// Key is the idempotency key of a notification: the same check, location,
// transition (its time and event) and channel always give the same key.
func Key(checkID, location string, at time.Time, event, channel string) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d\x00%s\x00%s", checkID, location, at.UnixMicro(), event, channel))
	return hex.EncodeToString(h[:16])
}
