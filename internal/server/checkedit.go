package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/monitor"
)

// Checks made through the API (admin key): the body is a check with the
// keys of a check in a suite file (docs/MONITORING.md). Checks from suite
// files are read-only here (409).

// checkEditErr maps the monitor's errors on changes to problems.
func checkEditErr(err error) error {
	var fe *check.FieldError
	switch {
	case errors.As(err, &fe):
		field := fe.Field
		if field == "" {
			field = "body"
		}
		return badRequest("bad check: "+fe.Error(), FieldError{Field: field, Detail: fe.Detail})
	case errors.Is(err, monitor.ErrReadOnly):
		return &Problem{Type: problemBase + "read-only", Title: "Check is read-only", Status: http.StatusConflict, Detail: err.Error()}
	case errors.Is(err, monitor.ErrExists):
		return &Problem{Type: problemBase + "conflict", Title: "Check exists", Status: http.StatusConflict, Detail: err.Error()}
	}
	return monitorErr(err)
}

// putCheck creates (id "") or replaces a check from its definition; the
// REST routes and the GraphQL mutations both call it, after requireAdmin.
func (s *Server) putCheck(ctx context.Context, id string, body []byte) (monitor.CheckView, error) {
	m, err := s.mon()
	if err != nil {
		return monitor.CheckView{}, err
	}
	if err := strictJSON(body, check.CheckKeys()); err != nil {
		return monitor.CheckView{}, err
	}
	var v monitor.CheckView
	if id == "" {
		v, err = m.CreateCheck(ctx, body)
	} else {
		v, err = m.ReplaceCheck(ctx, id, body)
	}
	if err != nil {
		return monitor.CheckView{}, checkEditErr(err)
	}
	return v, nil
}

// removeCheck deletes a check made through the API (REST and GraphQL).
func (s *Server) removeCheck(ctx context.Context, id string) error {
	m, err := s.mon()
	if err != nil {
		return err
	}
	if err := m.DeleteCheck(ctx, id); err != nil {
		return checkEditErr(err)
	}
	return nil
}

// runCheckNow queues a run outside the schedule (REST and GraphQL); false
// when one is already queued.
func (s *Server) runCheckNow(id string) (bool, error) {
	m, err := s.mon()
	if err != nil {
		return false, err
	}
	queued, err := m.RunNow(id)
	if err != nil {
		return false, monitorErr(err)
	}
	return queued, nil
}

// createCheck answers POST /api/v1/checks.
func (s *Server) createCheck(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSONBody(r, check.CheckKeys())
	if err != nil {
		return err
	}
	v, err := s.putCheck(r.Context(), "", body)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/checks/"+v.ID)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// replaceCheck answers PUT /api/v1/checks/{id}.
func (s *Server) replaceCheck(w http.ResponseWriter, r *http.Request) error {
	body, err := readJSONBody(r, check.CheckKeys())
	if err != nil {
		return err
	}
	v, err := s.putCheck(r.Context(), r.PathValue("id"), body)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// patchCheck answers PATCH /api/v1/checks/{id} (a JSON merge patch).
func (s *Server) patchCheck(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mon()
	if err != nil {
		return err
	}
	body, err := readJSONBody(r, check.CheckKeys(), "application/merge-patch+json", "application/json")
	if err != nil {
		return err
	}
	v, err := m.PatchCheck(r.Context(), r.PathValue("id"), body)
	if err != nil {
		return checkEditErr(err)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// deleteCheck answers DELETE /api/v1/checks/{id}.
func (s *Server) deleteCheck(w http.ResponseWriter, r *http.Request) error {
	if err := s.removeCheck(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// isAdmin reports whether the request carries an admin key (errors: no).
func (s *Server) isAdmin(r *http.Request) bool {
	k, err := s.lookupKey(r)
	return err == nil && k != nil && k.Admin
}
