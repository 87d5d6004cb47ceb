package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/dnsscience/dnsscience/internal/runner"
	"github.com/dnsscience/dnsscience/internal/store"
)

// streamMeasurement answers GET /api/v1/measurements/{id}/stream: every
// event so far, then each new one as it happens, ending with "result".
// A WebSocket upgrade request gets one JSON message per event; any other
// request gets Server-Sent Events. A finished measurement streams its
// stored result at once. The last event is always the stored final state,
// also when the server shuts down (the measurement is then failed as
// interrupted, stored, and sent).
func (s *Server) streamMeasurement(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	replay, events, cancel, live := s.svc.Subscribe(id)
	defer cancel()
	if !live {
		m, err := s.svc.Get(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			return notFound(fmt.Sprintf("no measurement %q", id))
		}
		if err != nil {
			return err
		}
		raw, _ := json.Marshal(runner.Public(m))
		replay = []runner.Event{{Seq: 1, Type: "result", Data: raw}}
	}
	s.metrics.subscribers.Inc()
	defer s.metrics.subscribers.Dec()
	// A stream lasts as long as its measurement: lift the server's read
	// and write deadlines for it (each WebSocket write has its own).
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return s.streamWS(w, r, replay, events)
	}
	return s.streamSSE(w, r, replay, events)
}

func (s *Server) streamSSE(w http.ResponseWriter, r *http.Request, replay []runner.Event, events <-chan runner.Event) error {
	flusher, ok := w.(http.Flusher)
	if !ok {
		return errors.New("streaming unsupported by the response writer")
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(ev runner.Event) {
		// Each write has the server's write timeout: a reader that stops
		// reading is cut off, not waited for.
		_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.Timeouts.Write))
		fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.Seq, ev.Type, ev.Data)
		flusher.Flush()
	}
	for _, ev := range replay {
		send(ev)
	}
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	for events != nil {
		select {
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			send(ev)
		case <-keepalive.C:
			_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.Timeouts.Write))
			fmt.Fprint(w, ": keepalive\n\n")
			flusher.Flush()
		case <-r.Context().Done():
			return nil
		}
	}
	return nil
}

func (s *Server) streamWS(w http.ResponseWriter, r *http.Request, replay []runner.Event, events <-chan runner.Event) error {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.CORSOrigins})
	if err != nil {
		return nil // Accept has answered the client
	}
	defer c.CloseNow()
	ctx := c.CloseRead(r.Context())
	send := func(ev runner.Event) error {
		b, _ := json.Marshal(ev)
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return c.Write(wctx, websocket.MessageText, b)
	}
	for _, ev := range replay {
		if err := send(ev); err != nil {
			return nil
		}
	}
	for events != nil {
		select {
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if err := send(ev); err != nil {
				return nil
			}
		case <-ctx.Done():
			return nil
		}
	}
	c.Close(websocket.StatusNormalClosure, "measurement finished")
	return nil
}
