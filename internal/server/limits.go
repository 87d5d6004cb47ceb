package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/dnsscience/dnsscience/internal/store"
)

// limited applies the rate limit of class to h, per API key or client IP,
// and sets the rate-limit headers on every answer.
func (s *Server) limited(class string, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.caller(r)
		if err != nil {
			return err
		}
		if err := s.allow(w, c, class); err != nil {
			return err
		}
		return h(w, r)
	}
}

// allow counts one request of class against the caller's quota and sets
// the rate-limit headers on w (when not nil); a refusal is a 429 problem.
// REST and GraphQL share it: both faces count in the same buckets.
func (s *Server) allow(w http.ResponseWriter, c who, class string) error {
	d := s.limiter.Allow(c.limitKey, class, c.scale)
	if w != nil {
		d.SetHeaders(w.Header())
	}
	if !d.Allowed {
		s.metrics.rateLimited.WithLabelValues(class).Inc()
		retry := max(1, int(d.RetryAfter.Seconds()+0.999))
		return &Problem{
			Type: problemBase + "rate-limited", Title: "Too many requests", Status: http.StatusTooManyRequests,
			Detail:     fmt.Sprintf("%s allows %d requests per %s per client; retry in %d s", class, d.Policy.Limit, d.Policy.Window, retry),
			RetryAfter: retry,
		}
	}
	return nil
}

func (s *Server) lookupKey(r *http.Request) (*store.APIKey, error) {
	plain, err := apiKey(r)
	if err != nil {
		return nil, err
	}
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
