package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/runner"
	"github.com/dnsscience/dnsscience/internal/store"
)

// MeasurementRequest is the body of POST /api/v1/measurements.
type MeasurementRequest struct {
	Type      string          `json:"type"`
	Target    string          `json:"target"`
	Options   json.RawMessage `json:"options,omitempty"`
	Locations []string        `json:"locations,omitempty"`
}

// postMeasurement decodes a request, applies the rate limit of its kind's
// class and hands it to the measurement service; 202 with the accepted
// measurement and a Location header.
func (s *Server) postMeasurement(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeRequest(r)
	if err != nil {
		return err
	}
	k, ok := s.svc.Registry().Lookup(req.Type)
	if !ok {
		return fieldError("type", "unknown measurement type %q; want one of %s", req.Type, strings.Join(s.svc.Registry().Names(), ", "))
	}
	if err := s.rateLimit(w, r, k.Info().Class); err != nil {
		return err
	}
	c, err := s.caller(r)
	if err != nil {
		return err
	}
	s.ensureOwner(w, &c)
	if len(req.Locations) > 1 || slices.ContainsFunc(req.Locations, runner.IsSelector) {
		return s.postMeasurements(w, r, runner.Request{Kind: req.Type, Target: req.Target, Options: req.Options,
			Locations: req.Locations, ClientID: c.owner, Queue: c.limitKey})
	}
	m, err := s.svc.Create(r.Context(), runner.Request{Kind: req.Type, Target: req.Target, Options: req.Options,
		Locations: req.Locations, ClientID: c.owner, Queue: c.limitKey})
	if err != nil {
		return serviceError(err)
	}
	w.Header().Set("Location", "/api/v1/measurements/"+m.ID)
	writeJSON(w, http.StatusAccepted, m)
	return nil
}

// serviceError maps the service's errors to problems: field errors are
// 400s, policy refusals 403s; anything else stays an internal error.
func serviceError(err error) error {
	var fe *measure.FieldError
	if errors.As(err, &fe) {
		return fieldError(fe.Field, "%s", fe.Detail)
	}
	if errors.Is(err, netpolicy.ErrDenied) {
		return &Problem{Type: problemBase + "target-refused", Title: "Target refused by policy", Status: http.StatusForbidden, Detail: err.Error()}
	}
	var busy *runner.BusyError
	if errors.As(err, &busy) {
		retry := max(1, int(busy.RetryAfter.Seconds()))
		return &Problem{Type: problemBase + "rate-limited", Title: "Too many measurements waiting", Status: http.StatusTooManyRequests,
			Detail: busy.Error(), RetryAfter: retry}
	}
	return err
}

// readJSONBody reads a body sent as application/json (or one of types)
// that is one object with keys among top (strictJSON).
func readJSONBody(r *http.Request, top []string, types ...string) ([]byte, error) {
	if err := checkJSONType(r, types...); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &Problem{Type: problemBase + "validation", Title: "Request too large", Status: http.StatusRequestEntityTooLarge,
				Detail: fmt.Sprintf("the body is over %d bytes", mbe.Limit)}
		}
		return nil, badRequest("reading the body: " + err.Error())
	}
	if err := strictJSON(body, top); err != nil {
		return nil, err
	}
	return body, nil
}

func decodeRequest(r *http.Request) (MeasurementRequest, error) {
	var req MeasurementRequest
	body, err := readJSONBody(r, []string{"type", "target", "options", "locations"})
	if err != nil {
		return req, err
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, badRequest("the body is not a JSON measurement request: " + err.Error())
	}
	if err := checkTarget(req.Target); err != nil {
		return req, err
	}
	return req, nil
}

// rateLimit applies the class's limit inside a handler.
func (s *Server) rateLimit(w http.ResponseWriter, r *http.Request, class string) error {
	return s.limited(class, func(http.ResponseWriter, *http.Request) error { return nil })(w, r)
}

// getMeasurement answers GET /api/v1/measurements/{id}: anyone with the
// id may read it (permalinks are shareable), but only its owner sees who
// submitted it.
func (s *Server) getMeasurement(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	c, err := s.caller(r)
	if err != nil {
		return err
	}
	if e, ok := s.doneCache.get(id); ok && (c.owner == "" || e.owner != c.owner) {
		writeJSONBytes(w, http.StatusOK, e.body)
		return nil
	}
	m, err := s.svc.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound(fmt.Sprintf("no measurement %q", id))
	}
	if err != nil {
		return err
	}
	owner := m.ClientID
	if owner == "" || owner != c.owner {
		m = runner.Public(m)
	}
	body, err := encodeJSON(m)
	if err != nil {
		return fmt.Errorf("encoding measurement %s: %w", id, err)
	}
	// Finished and failed measurements no longer change: keep their public
	// JSON (the small ones, so the cache stays within doneCacheEntries ×
	// doneCacheMaxBody).
	if m.ClientID == "" && (m.Status == "finished" || m.Status == "failed") && len(body) <= doneCacheMaxBody {
		s.doneCache.put(id, doneEntry{owner: owner, body: body}, doneCacheTTL)
	}
	writeJSONBytes(w, http.StatusOK, body)
	return nil
}

// doneEntry is a finished measurement's public JSON and its owner (who is
// served from the store instead, to see its client_id).
type doneEntry struct {
	owner string
	body  []byte
}

// The cache of finished measurements' JSON: how long one is served from
// memory (so one deleted by retention disappears within it too), how many
// are kept, and the largest body kept (at most 64 MiB in all).
const (
	doneCacheTTL     = 5 * time.Minute
	doneCacheEntries = 2048
	doneCacheMaxBody = 32 << 10
)

// Lists are pages of at most listMaxLimit measurements (listDefaultLimit
// by default) in which a result over listMaxResult characters is left out
// (result_truncated: true; the measurement's own route has it whole): a
// page's size is bounded whatever was stored.
const (
	listDefaultLimit = 20
	listMaxLimit     = 100
	listMaxResult    = 16 << 10
)

// listMeasurements answers GET /api/v1/measurements?type=&status=&limit=&before=:
// the caller's own measurements (by API key, or by its client token),
// newest first, encoded one at a time as they are read.
func (s *Server) listMeasurements(w http.ResponseWriter, r *http.Request) error {
	c, err := s.caller(r)
	if err != nil {
		return err
	}
	f, err := s.listFilter(r)
	if err != nil {
		return err
	}
	f.ClientID = c.owner
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "private, no-store")
	if c.owner == "" {
		// No key and no token: nothing of this caller's is stored.
		_, err := io.WriteString(w, `{"measurements":[]}`+"\n")
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	n, last := 0, time.Time{}
	err = s.svc.Each(r.Context(), f, func(m *store.Measurement) error {
		prefix := ","
		if n == 0 {
			w.WriteHeader(http.StatusOK)
			prefix = `{"measurements":[`
		}
		if _, err := io.WriteString(w, prefix); err != nil {
			return err
		}
		n, last = n+1, m.CreatedAt
		return enc.Encode(m)
	})
	if err != nil && n == 0 {
		return err
	}
	if err != nil {
		// The status is sent: cut the answer short rather than end it as
		// if it were whole.
		s.log.ErrorContext(r.Context(), "listing measurements", "err", err, "request_id", requestID(r.Context()))
		panic(http.ErrAbortHandler)
	}
	if n == 0 {
		_, err := io.WriteString(w, `{"measurements":[]}`+"\n")
		return err
	}
	tail := "]}\n"
	if n == f.Limit {
		tail = fmt.Sprintf(`],"next_before":%q}`+"\n", last.Format(time.RFC3339Nano))
	}
	_, err = io.WriteString(w, tail)
	return err
}

// listFilter reads a list's query parameters.
func (s *Server) listFilter(r *http.Request) (store.Filter, error) {
	q := r.URL.Query()
	f := store.Filter{Type: q.Get("type"), Status: q.Get("status"), Limit: listDefaultLimit, MaxResult: listMaxResult}
	if k, ok := s.svc.Registry().Lookup(f.Type); ok {
		f.Type = k.Info().Name
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > listMaxLimit {
			return f, fieldError("limit", "want 1 to %d (page on with before=)", listMaxLimit)
		}
		f.Limit = n
	}
	if v := q.Get("before"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return f, fieldError("before", "want an RFC 3339 time such as 2026-11-22T15:04:05Z")
		}
		f.Before = t
	}
	return f, nil
}

// getKinds answers GET /api/v1/kinds: every measurement kind with its
// options, defaults and limits, from the registry (the UI builds its forms
// from it).
func (s *Server) getKinds(w http.ResponseWriter, _ *http.Request) error {
	type kind struct {
		*measure.Info
		Options []measure.Field `json:"options"`
	}
	var out []kind
	for _, k := range s.svc.Registry().Kinds() {
		out = append(out, kind{Info: k.Info(), Options: k.Options()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"kinds": out})
	return nil
}
