package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/store"
)

// MeasurementRequest is the body of POST /api/v1/measurements.
type MeasurementRequest struct {
	Type      string          `json:"type"`
	Target    string          `json:"target"`
	Options   json.RawMessage `json:"options,omitempty"`
	Locations []string        `json:"locations,omitempty"`
}

// postMeasurement validates a request, stores it as queued, starts it and
// answers 202 with its id and a Location header.
func (s *Server) postMeasurement(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeRequest(r)
	if err != nil {
		return err
	}
	k, ok := s.kinds[req.Type]
	if !ok {
		return fieldError("type", "unknown measurement type %q; want one of %s", req.Type, strings.Join(s.kindNames(), ", "))
	}
	if strings.TrimSpace(req.Target) == "" {
		return fieldError("target", "missing; give what to measure (a name, host:port or URL)")
	}
	if len(req.Target) > 2048 {
		return fieldError("target", "%d bytes; at most 2048", len(req.Target))
	}
	locs, err := s.checkLocations(req.Locations)
	if err != nil {
		return err
	}
	if err := s.rateLimit(w, r, k.class); err != nil {
		return err
	}
	if k.connects {
		if err := s.checkTarget(r.Context(), req.Target); err != nil {
			return err
		}
	}
	run, err := k.prepare(r.Context(), s, req.Target, req.Options)
	if err != nil {
		return err
	}
	client, _, err := s.caller(r)
	if err != nil {
		return err
	}
	m := &store.Measurement{Type: req.Type, Target: req.Target, Options: req.Options, Locations: locs, Status: "queued", ClientID: client}
	if err := s.store.CreateMeasurement(r.Context(), m); err != nil {
		return fmt.Errorf("storing measurement: %w", err)
	}
	accepted := *m // the runner owns m from here on
	s.start(m, k, run)
	w.Header().Set("Location", "/api/v1/measurements/"+accepted.ID)
	writeJSON(w, http.StatusAccepted, accepted)
	return nil
}

func decodeRequest(r *http.Request) (MeasurementRequest, error) {
	var req MeasurementRequest
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return req, &Problem{Type: problemBase + "validation", Title: "Unsupported media type", Status: http.StatusUnsupportedMediaType,
			Detail: fmt.Sprintf("Content-Type %q; send application/json", ct)}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return req, &Problem{Type: problemBase + "validation", Title: "Request too large", Status: http.StatusRequestEntityTooLarge,
				Detail: fmt.Sprintf("the body is over %d bytes", mbe.Limit)}
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return req, fieldError(strings.Trim(f, `"`), "unknown field; the body has type, target, options and locations")
		}
		return req, badRequest("the body is not a JSON measurement request: " + err.Error())
	}
	return req, nil
}

func (s *Server) kindNames() []string {
	var names []string
	for n := range s.kinds {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// checkLocations accepts known location ids; none means the first location.
func (s *Server) checkLocations(ids []string) ([]string, error) {
	if len(ids) == 0 {
		return []string{s.cfg.Locations[0].ID}, nil
	}
	for i, id := range ids {
		if !slices.ContainsFunc(s.cfg.Locations, func(l Location) bool { return l.ID == id }) {
			return nil, fieldError(fmt.Sprintf("locations[%d]", i), "unknown location %q; see GET /api/v1/locations", id)
		}
	}
	return ids, nil
}

// rateLimit applies the class's limit inside a handler.
func (s *Server) rateLimit(w http.ResponseWriter, r *http.Request, class string) error {
	return s.limited(class, func(http.ResponseWriter, *http.Request) error { return nil })(w, r)
}

// checkTarget refuses, before anything runs, a target whose address (or
// any address its name resolves to) the policy denies. The dialer checks
// again at connect time, which also covers redirects and DNS changes.
func (s *Server) checkTarget(ctx context.Context, target string) error {
	host := target
	if u, err := url.Parse(target); err == nil && u.Host != "" {
		host = u.Hostname()
	} else if h, _, err := net.SplitHostPort(target); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if a, err := netip.ParseAddr(host); err == nil {
		return s.policyError(s.cfg.Policy.Check(a))
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := s.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil // the measurement itself reports names that do not resolve
	}
	for _, a := range addrs {
		if err := s.cfg.Policy.Check(a.Unmap()); err != nil {
			return s.policyError(fmt.Errorf("%s resolves to %w", host, err))
		}
	}
	return nil
}

func (s *Server) policyError(err error) error {
	if err == nil {
		return nil
	}
	return &Problem{Type: problemBase + "target-refused", Title: "Target refused by policy", Status: http.StatusForbidden, Detail: err.Error()}
}

// start runs a measurement in the background, streaming its events and
// storing its result.
func (s *Server) start(m *store.Measurement, k kind, run runFunc) {
	s.hub.open(m.ID)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.hub.close(m.ID)
		select {
		case s.sem <- struct{}{}:
			defer func() { <-s.sem }()
		case <-s.runCtx.Done():
			s.finish(m, nil, errors.New("server shutting down before the measurement started"))
			return
		}
		ctx, cancel := context.WithTimeout(s.runCtx, k.timeout)
		defer cancel()
		m.Status, m.StartedAt = "running", s.cfg.Now()
		if err := s.store.UpdateMeasurement(ctx, m); err != nil {
			s.log.Error("marking measurement running", "id", m.ID, "err", err)
		}
		s.hub.publish(m.ID, "status", map[string]string{"status": "running"})
		s.metrics.inflight.Inc()
		result, err := run(ctx, func(typ string, data any) { s.hub.publish(m.ID, typ, data) })
		s.metrics.inflight.Dec()
		if err != nil && s.runCtx.Err() != nil {
			err = errors.New("server shut down while the measurement ran")
		}
		s.finish(m, result, err)
	}()
}

// finish stores the outcome and publishes the final event.
func (s *Server) finish(m *store.Measurement, result any, runErr error) {
	m.FinishedAt = s.cfg.Now()
	if runErr != nil {
		m.Status, m.Error = "failed", runErr.Error()
		if errors.Is(runErr, netpolicy.ErrDenied) {
			m.Error = "target refused by policy: " + runErr.Error()
		}
	} else {
		m.Status = "finished"
		raw, err := json.Marshal(result)
		if err != nil {
			m.Status, m.Error = "failed", "encoding result: "+err.Error()
		}
		m.Result = raw
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.store.UpdateMeasurement(ctx, m); err != nil {
		s.log.Error("storing measurement result", "id", m.ID, "err", err)
	}
	s.metrics.measurements.WithLabelValues(m.Type, m.Status).Inc()
	s.hub.publish(m.ID, "result", m)
}

// getMeasurement answers GET /api/v1/measurements/{id}.
func (s *Server) getMeasurement(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if body, ok := s.doneCache.get(id); ok {
		writeJSONBytes(w, http.StatusOK, body)
		return nil
	}
	m, err := s.store.GetMeasurement(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound(fmt.Sprintf("no measurement %q", id))
	}
	if err != nil {
		return err
	}
	body, err := encodeJSON(m)
	if err != nil {
		return fmt.Errorf("encoding measurement %s: %w", id, err)
	}
	// Finished and failed measurements no longer change: keep their JSON
	// (the small ones, so the cache stays within doneCacheEntries × doneCacheMaxBody).
	if (m.Status == "finished" || m.Status == "failed") && len(body) <= doneCacheMaxBody {
		s.doneCache.put(id, body, doneCacheTTL)
	}
	writeJSONBytes(w, http.StatusOK, body)
	return nil
}

// The cache of finished measurements' JSON: how long one is served from
// memory (so one deleted by retention disappears within it too), how many
// are kept, and the largest body kept (at most 64 MiB in all).
const (
	doneCacheTTL     = 5 * time.Minute
	doneCacheEntries = 2048
	doneCacheMaxBody = 32 << 10
)

// listMeasurements answers GET /api/v1/measurements?type=&status=&limit=&before=.
func (s *Server) listMeasurements(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.Filter{Type: q.Get("type"), Status: q.Get("status")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return fieldError("limit", "want 1 to 1000")
		}
		f.Limit = n
	}
	if v := q.Get("before"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fieldError("before", "want an RFC 3339 time such as 2026-11-22T15:04:05Z")
		}
		f.Before = t
	}
	list, err := s.store.ListMeasurements(r.Context(), f)
	if err != nil {
		return err
	}
	if list == nil {
		list = []store.Measurement{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"measurements": list})
	return nil
}
