package runner

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/dnsscience/dnsscience/internal/store"
)

// Relay carries the live events of measurements between servers sharing a
// bus, so a client may watch a measurement on any server whichever runs
// it. Config.Relay nil means one server: streams are this process's own.
type Relay interface {
	// Publish sends one event of a measurement running here to the other
	// servers, in order.
	Publish(id string, ev Event)
	// Serve answers the other servers' requests for the events so far of
	// a measurement running here, with replay(), until stop is called.
	Serve(id string, replay func() []Event) (stop func())
	// Follow streams a measurement running on another server: its events
	// so far, then a channel of the ones to come, closed after "result"
	// or when that server stops answering; ok is false when no server
	// runs it. cancel must be called.
	Follow(id string, buffer int) (replay []Event, events <-chan Event, cancel func(), ok bool)
}

// follow streams a measurement another server runs. When that stream
// ends without a result (the server was lost, or the result was too large
// for the bus) the stored state is sent as the last event, so a
// subscriber is always told how the measurement ended, as it is here.
func (s *Service) follow(id string) (replay []Event, events <-chan Event, cancel func(), ok bool) {
	replay, in, stop, ok := s.cfg.Relay.Follow(id, s.cfg.EventBuffer)
	if !ok {
		return nil, nil, func() {}, false
	}
	for _, ev := range replay {
		if ev.Type == "result" {
			stop()
			return replay, closedEvents(), func() {}, true
		}
	}
	out := make(chan Event, s.cfg.EventBuffer)
	done := make(chan struct{})
	var once sync.Once
	cancel = func() { once.Do(func() { close(done); stop() }) }
	seq := len(replay)
	go func() {
		defer close(out)
		for ev := range in {
			seq = ev.Seq
			select {
			case out <- ev:
			case <-done:
				return
			}
			if ev.Type == "result" {
				return
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		m, err := s.cfg.Store.GetMeasurement(ctx, id)
		if err != nil || (m.Status != store.StatusFinished && m.Status != store.StatusFailed) {
			return
		}
		raw, _ := json.Marshal(Public(m))
		select {
		case out <- Event{Seq: seq + 1, Type: "result", Data: raw}:
		case <-done:
		}
	}()
	return replay, out, cancel, true
}

func closedEvents() <-chan Event {
	c := make(chan Event)
	close(c)
	return c
}
