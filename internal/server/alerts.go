package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/dnsscience/dnsscience/internal/store"
)

// alertRoutes are the alert outbox's routes: a check's notifications with
// their delivery status, dead letters (list, retry) and silences.
func (s *Server) alertRoutes() []route {
	h := s.handle
	return []route{
		{method: "GET", pattern: "/api/v1/checks/{id}/notifications", handler: h(s.getCheckNotifications)},
		{method: "GET", pattern: "/api/v1/alerts/dead", handler: h(s.admin(s.listDeadNotifications))},
		{method: "POST", pattern: "/api/v1/alerts/dead/{seq}/retry", handler: h(s.admin(s.retryDeadNotification))},
		{method: "GET", pattern: "/api/v1/alerts/silences", handler: h(s.admin(s.listSilences))},
		{method: "POST", pattern: "/api/v1/alerts/silences", handler: h(s.admin(s.addSilence))},
		{method: "DELETE", pattern: "/api/v1/alerts/silences/{id}", handler: h(s.admin(s.deleteSilence))},
	}
}

// notificationView is a notification as the API shows it: its delivery,
// not its payload.
type notificationView struct {
	Seq          int64     `json:"seq"`
	Key          string    `json:"idempotency_key"`
	Check        string    `json:"check"`
	Location     string    `json:"location"`
	Channel      string    `json:"channel"`
	Event        string    `json:"event"`
	TransitionAt time.Time `json:"transition_at"`
	Status       string    `json:"status"`
	Attempts     int       `json:"attempts"`
	NextAttempt  time.Time `json:"next_attempt,omitzero"`
	LastError    string    `json:"last_error,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	DeliveredAt  time.Time `json:"delivered_at,omitzero"`
}

func viewNotifications(ns []store.Notification) []notificationView {
	out := make([]notificationView, 0, len(ns))
	for _, n := range ns {
		v := notificationView{Seq: n.Seq, Key: n.Key, Check: n.CheckID, Location: n.Location, Channel: n.Channel, Event: n.Event,
			TransitionAt: n.TransitionAt, Status: n.Status, Attempts: n.Attempts, LastError: n.LastError, CreatedAt: n.CreatedAt, DeliveredAt: n.DeliveredAt}
		if n.Status == store.NotePending {
			v.NextAttempt = n.NextAttempt
		}
		out = append(out, v)
	}
	return out
}

// getCheckNotifications answers GET /api/v1/checks/{id}/notifications.
func (s *Server) getCheckNotifications(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mon()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := m.Check(id); err != nil {
		return monitorErr(err)
	}
	limit, err := queryLimit(r.URL.Query().Get("limit"), 100, 1000)
	if err != nil {
		return err
	}
	ns, err := s.store.Notifications(r.Context(), id, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"notifications": viewNotifications(ns)})
	return nil
}

// listDeadNotifications answers GET /api/v1/alerts/dead.
func (s *Server) listDeadNotifications(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryLimit(r.URL.Query().Get("limit"), 100, 1000)
	if err != nil {
		return err
	}
	ns, err := s.store.DeadNotifications(r.Context(), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"notifications": viewNotifications(ns)})
	return nil
}

// retryDeadNotification answers POST /api/v1/alerts/dead/{seq}/retry: the
// dead letter is pending again, due now, its attempts reset.
func (s *Server) retryDeadNotification(w http.ResponseWriter, r *http.Request) error {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		return fieldError("seq", "%q is not a notification number (a positive whole number)", r.PathValue("seq"))
	}
	if err := s.store.RetryNotification(r.Context(), seq, time.Now()); errors.Is(err, store.ErrNotFound) {
		return notFound(fmt.Sprintf("no dead notification %d", seq))
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"seq": seq, "status": store.NotePending})
	return nil
}

// listSilences answers GET /api/v1/alerts/silences (the ones in force).
func (s *Server) listSilences(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.store.Silences(r.Context(), time.Now())
	if err != nil {
		return err
	}
	if ss == nil {
		ss = []store.Silence{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"silences": ss})
	return nil
}

// maxSilence is the longest a silence may last.
const maxSilence = 90 * 24 * time.Hour

// addSilence answers POST /api/v1/alerts/silences {check, channel, reason,
// duration | expires_at}.
func (s *Server) addSilence(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Check     string    `json:"check"`
		Channel   string    `json:"channel"`
		Reason    string    `json:"reason"`
		Duration  string    `json:"duration"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest(`the body is not {"check", "channel", "reason", "duration" or "expires_at"}: ` + err.Error())
	}
	now := time.Now()
	switch {
	case req.Duration != "" && !req.ExpiresAt.IsZero():
		return fieldError("duration", "give duration or expires_at, not both")
	case req.Duration != "":
		d, err := time.ParseDuration(req.Duration)
		if err != nil || d <= 0 {
			return fieldError("duration", "%q is not a positive duration such as 30m or 4h", req.Duration)
		}
		req.ExpiresAt = now.Add(d)
	case req.ExpiresAt.IsZero():
		return fieldError("expires_at", "a silence needs an expiry: duration (such as 2h) or expires_at (RFC 3339)")
	}
	if !req.ExpiresAt.After(now) || req.ExpiresAt.Sub(now) > maxSilence {
		return fieldError("expires_at", "the expiry must be in the future and at most 90 days away")
	}
	if req.Check != "" {
		if m, err := s.mon(); err == nil {
			if _, err := m.Check(req.Check); err != nil {
				return fieldError("check", "no check %q", req.Check)
			}
		}
	}
	if len(req.Reason) > 500 {
		return fieldError("reason", "at most 500 characters")
	}
	by := ""
	if k, err := s.lookupKey(r); err == nil && k != nil {
		by = k.Prefix
	}
	si, err := s.store.AddSilence(r.Context(), store.Silence{CheckID: req.Check, Channel: req.Channel, Reason: req.Reason, CreatedBy: by,
		CreatedAt: now.UTC().Truncate(time.Microsecond), ExpiresAt: req.ExpiresAt.UTC().Truncate(time.Microsecond)})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"silence": si})
	return nil
}

// deleteSilence answers DELETE /api/v1/alerts/silences/{id}.
func (s *Server) deleteSilence(w http.ResponseWriter, r *http.Request) error {
	if err := s.store.DeleteSilence(r.Context(), r.PathValue("id")); errors.Is(err, store.ErrNotFound) {
		return notFound("no silence " + r.PathValue("id"))
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
