package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/dnsscience/dnsscience/internal/store"
)

// admin wraps h so that only holders of an admin API key may call it.
func (s *Server) admin(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		k, err := s.lookupKey(r)
		if err != nil {
			return err
		}
		if err := requireAdmin(k); err != nil {
			return err
		}
		return h(w, r)
	}
}

// requireAdmin refuses a caller without an admin key k (nil: no key) as
// the admin routes and the GraphQL admin mutations do.
func requireAdmin(k *store.APIKey) error {
	if k == nil {
		return &Problem{Type: problemBase + "unauthorized", Title: "Unauthorized", Status: http.StatusUnauthorized,
			Detail: "admin routes need an admin API key (Authorization: Bearer KEY); create one with `dnsscience apikey create NAME --admin`"}
	}
	if !k.Admin {
		return &Problem{Type: problemBase + "forbidden", Title: "Forbidden", Status: http.StatusForbidden,
			Detail: fmt.Sprintf("API key %s is not an admin key", k.Prefix)}
	}
	return nil
}

// listAPIKeys answers GET /api/v1/admin/apikeys (hashes are never shown).
func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.store.ListAPIKeys(r.Context())
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []store.APIKey{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"apikeys": keys})
	return nil
}

// revokeAPIKey answers DELETE /api/v1/admin/apikeys/{id}.
func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	err := s.store.RevokeAPIKey(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return notFound(fmt.Sprintf("no API key %q", r.PathValue("id")))
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
