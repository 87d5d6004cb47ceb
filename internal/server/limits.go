package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/dnsscience/dnsscience/internal/store"
)

// limited applies the rate limit of class to h, per API key or client IP,
// and sets the rate-limit headers on every answer.
func (s *Server) limited(class string, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		client, scale, err := s.caller(r)
		if err != nil {
			return err
		}
		d := s.limiter.Allow(client, class, scale)
		d.SetHeaders(w.Header())
		if !d.Allowed {
			s.metrics.rateLimited.WithLabelValues(class).Inc()
			retry := max(1, int(d.RetryAfter.Seconds()+0.999))
			return &Problem{
				Type: problemBase + "rate-limited", Title: "Too many requests", Status: http.StatusTooManyRequests,
				Detail:     fmt.Sprintf("%s allows %d requests per %s per client; retry in %d s", class, d.Policy.Limit, d.Policy.Window, retry),
				RetryAfter: retry,
			}
		}
		return h(w, r)
	}
}

// apiKey is the key a request presents: Authorization: Bearer KEY, or X-API-Key.
func apiKey(r *http.Request) string {
	if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(v)
	}
	return strings.TrimSpace(r.Header.Get("X-API-Key"))
}

// caller identifies who asks, for rate limits and auditing: "key:ID" with
// the key holders' quota scale, or "ip:ADDR" with scale 1. A key that is
// presented but unknown or revoked is refused rather than ignored.
func (s *Server) caller(r *http.Request) (string, int, error) {
	k, err := s.lookupKey(r)
	if err != nil {
		return "", 0, err
	}
	if k != nil {
		return "key:" + k.ID, s.cfg.KeyScale, nil
	}
	return "ip:" + s.clientIP(r).String(), 1, nil
}

func (s *Server) lookupKey(r *http.Request) (*store.APIKey, error) {
	plain := apiKey(r)
	if plain == "" {
		return nil, nil
	}
	k, err := s.store.LookupAPIKey(r.Context(), plain)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Problem{Type: problemBase + "unauthorized", Title: "Unauthorized", Status: http.StatusUnauthorized,
			Detail: "the API key is unknown or revoked; create one with `dnsscience apikey create NAME`"}
	}
	if err != nil {
		return nil, fmt.Errorf("checking API key: %w", err)
	}
	return k, nil
}
