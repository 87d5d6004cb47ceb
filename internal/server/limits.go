package server

import (
	"fmt"
	"net/http"
)

// limited applies the rate limit of class to h, per API key or client IP,
// and sets the rate-limit headers on every answer.
func (s *Server) limited(class string, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		client, scale := s.clientKey(r)
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

// clientKey identifies the caller for rate limits: "ip:ADDR" until API
// keys are checked, and the quota scale that applies.
func (s *Server) clientKey(r *http.Request) (string, int) {
	return "ip:" + s.clientIP(r).String(), 1
}
