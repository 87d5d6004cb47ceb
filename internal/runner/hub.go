package runner

import (
	"encoding/json"
	"sync"
)

// Event is one item of a measurement's live stream: a traceroute hop, a
// propagation answer, a diagnose layer, then the final "result" (or
// "error") event.
type Event struct {
	Seq  int             `json:"seq"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// hub fans the events of running measurements out to live subscribers.
// A subscriber first gets every event so far, then new ones; a subscriber
// too slow to keep up is dropped rather than slowing the measurement.
type hub struct {
	mu     sync.Mutex
	topics map[string]*topic
	buffer int
	relay  Relay // nil: events stay in this process
}

type topic struct {
	events []Event
	subs   map[*subscriber]struct{}
	closed bool
	// unserve stops answering other servers' replay requests.
	unserve func()
}

type subscriber struct {
	ch     chan Event
	lagged bool
}

func newHub(buffer int, relay Relay) *hub {
	return &hub{topics: map[string]*topic{}, buffer: buffer, relay: relay}
}

// open starts a topic for a measurement.
func (h *hub) open(id string) {
	t := &topic{subs: map[*subscriber]struct{}{}, unserve: func() {}}
	if h.relay != nil {
		t.unserve = h.relay.Serve(id, func() []Event {
			h.mu.Lock()
			defer h.mu.Unlock()
			return append([]Event(nil), t.events...)
		})
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.topics[id] = t
}

// publish appends an event and sends it to every subscriber.
func (h *hub) publish(id, typ string, data any) {
	raw, err := json.Marshal(data)
	if err != nil {
		raw, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.topics[id]
	if !ok || t.closed {
		return
	}
	ev := Event{Seq: len(t.events) + 1, Type: typ, Data: raw}
	t.events = append(t.events, ev)
	if h.relay != nil {
		h.relay.Publish(id, ev)
	}
	for s := range t.subs {
		select {
		case s.ch <- ev:
		default:
			s.lagged = true
			close(s.ch)
			delete(t.subs, s)
		}
	}
}

// close ends a topic: subscribers' channels close after the last event and
// the topic is forgotten (the stored result serves later readers).
func (h *hub) close(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.topics[id]
	if !ok {
		return
	}
	t.closed = true
	t.unserve()
	for s := range t.subs {
		close(s.ch)
		delete(t.subs, s)
	}
	delete(h.topics, id)
}

// subscribe returns the events so far and a channel of the ones to come,
// or ok=false when the measurement is not running. cancel must be called.
func (h *hub) subscribe(id string) (replay []Event, sub *subscriber, cancel func(), ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, found := h.topics[id]
	if !found || t.closed {
		return nil, nil, func() {}, false
	}
	s := &subscriber{ch: make(chan Event, h.buffer)}
	t.subs[s] = struct{}{}
	replay = append([]Event(nil), t.events...)
	cancel = func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, still := t.subs[s]; still {
			delete(t.subs, s)
			close(s.ch)
		}
	}
	return replay, s, cancel, true
}
