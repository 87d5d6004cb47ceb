package server

import (
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

// createCheck answers POST /api/v1/checks.
func (s *Server) createCheck(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mon()
	if err != nil {
		return err
	}
	body, err := readJSONBody(r, check.CheckKeys())
	if err != nil {
		return err
	}
	v, err := m.CreateCheck(r.Context(), body)
	if err != nil {
		return checkEditErr(err)
	}
	w.Header().Set("Location", "/api/v1/checks/"+v.ID)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// replaceCheck answers PUT /api/v1/checks/{id}.
func (s *Server) replaceCheck(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mon()
	if err != nil {
		return err
	}
	body, err := readJSONBody(r, check.CheckKeys())
	if err != nil {
		return err
	}
	v, err := m.ReplaceCheck(r.Context(), r.PathValue("id"), body)
	if err != nil {
		return checkEditErr(err)
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
	m, err := s.mon()
	if err != nil {
		return err
	}
	if err := m.DeleteCheck(r.Context(), r.PathValue("id")); err != nil {
		return checkEditErr(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// isAdmin reports whether the request carries an admin key (errors: no).
func (s *Server) isAdmin(r *http.Request) bool {
	k, err := s.lookupKey(r)
	return err == nil && k != nil && k.Admin
}
