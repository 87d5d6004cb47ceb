package server

import (
	"encoding/json"
	"errors"
	"fmt"
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
	client, _, err := s.caller(r)
	if err != nil {
		return err
	}
	if len(req.Locations) > 1 || slices.ContainsFunc(req.Locations, runner.IsSelector) {
		return s.postMeasurements(w, r, runner.Request{Kind: req.Type, Target: req.Target, Options: req.Options, Locations: req.Locations, ClientID: client})
	}
	m, err := s.svc.Create(r.Context(), runner.Request{Kind: req.Type, Target: req.Target, Options: req.Options,
		Locations: req.Locations, ClientID: client})
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
	return err
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

// rateLimit applies the class's limit inside a handler.
func (s *Server) rateLimit(w http.ResponseWriter, r *http.Request, class string) error {
	return s.limited(class, func(http.ResponseWriter, *http.Request) error { return nil })(w, r)
}

// getMeasurement answers GET /api/v1/measurements/{id}.
func (s *Server) getMeasurement(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if body, ok := s.doneCache.get(id); ok {
		writeJSONBytes(w, http.StatusOK, body)
		return nil
	}
	m, err := s.svc.Get(r.Context(), id)
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
	if k, ok := s.svc.Registry().Lookup(f.Type); ok {
		f.Type = k.Info().Name
	}
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
	list, err := s.svc.List(r.Context(), f)
	if err != nil {
		return err
	}
	if list == nil {
		list = []store.Measurement{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"measurements": list})
	return nil
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
