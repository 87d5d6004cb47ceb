package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/dnsscience/dnsscience/internal/runner"
	"github.com/dnsscience/dnsscience/internal/store"
)

// connectAgent answers GET /api/v1/agents/connect: an agent's WebSocket,
// joined to the embedded NATS server (the agent authenticates inside).
func (s *Server) connectAgent(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Agents == nil {
		return notFound("this server runs no agents bus")
	}
	s.cfg.Agents.ServeHTTP(w, r)
	return nil
}

// listAgents answers GET /api/v1/admin/agents.
func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) error {
	list, err := s.store.ListAgents(r.Context())
	if err != nil {
		return err
	}
	if list == nil {
		list = []store.Agent{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"agents": list})
	return nil
}

// addAgent answers POST /api/v1/admin/agents {"name": ...}: the token is
// in the answer, once.
func (s *Server) addAgent(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name string `json:"name"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return badRequest("the body is not {\"name\": NAME}: " + err.Error())
	}
	token, a, err := s.store.CreateAgent(r.Context(), req.Name)
	if errors.Is(err, store.ErrInvalid) {
		return fieldError("name", "%v", err)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"agent": a, "token": token,
		"command": "dnsscience agent --server URL --token " + token})
	return nil
}

// revokeAgent answers DELETE /api/v1/admin/agents/{name}: the credential
// stops working and the agent is disconnected from every server.
func (s *Server) revokeAgent(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	err := s.store.RevokeAgent(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		return notFound(fmt.Sprintf("no agent %q", name))
	}
	if err != nil {
		return err
	}
	if s.cfg.Agents != nil {
		if err := s.cfg.Agents.Revoked(name); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// postMeasurements creates one measurement per location (a request naming
// several) and answers {"measurements": [...]}, each streaming on its own.
func (s *Server) postMeasurements(w http.ResponseWriter, r *http.Request, req runner.Request) error {
	ms, err := s.svc.CreateEach(r.Context(), req)
	if err != nil {
		return serviceError(err)
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"measurements": ms})
	return nil
}
