package server

import (
	"context"
	"time"

	"github.com/dnsscience/dnsscience/internal/ratelimit"
)

// limiter decides whether a client's request of a class may go ahead.
type limiter interface {
	Allow(client, class string, scale int) ratelimit.Decision
}

// shareLimits counts rate limits in the shared NATS cluster's JetStream
// when servers share one (serve --nats), so a client's quota holds across
// all of them; without one, or when it has no JetStream, each server
// counts alone (local).
func (s *Server) shareLimits(local *ratelimit.Limiter) {
	if s.cfg.Agents == nil {
		return
	}
	js, ok := s.cfg.Agents.JetStream()
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	shared, err := ratelimit.NewShared(ctx, js, local)
	if err != nil {
		s.log.Warn("rate limits are counted per server: the shared NATS has no usable JetStream", "err", err)
		return
	}
	shared.Log = s.log
	s.limiter = shared
}
