package monitor

import (
	"errors"
	"sync"
)

// transitionHub fans the monitor's state changes out to subscribers (the
// GraphQL checkStateChanges subscription). Each subscriber has a bounded
// buffer; one that falls behind is dropped (its channel closed) rather
// than holding up the workers or growing without bound.
type transitionHub struct {
	mu   sync.Mutex
	subs map[*transitionSub]struct{}
}

type transitionSub struct {
	ch    chan Event
	check string // "" for every check
}

// MaxTransitionSubscribers bounds the subscribers of SubscribeTransitions.
const MaxTransitionSubscribers = 1000

// ErrTooManySubscribers refuses a subscriber over MaxTransitionSubscribers.
var ErrTooManySubscribers = errors.New("monitor: too many subscribers to state changes")

// SubscribeTransitions returns a channel of the state changes of check id
// (every check when id is "") from now on, buffering up to buf (at least
// 1). The channel is closed when cancel is called or when the subscriber
// falls more than buf changes behind. Call cancel when done.
func (m *Monitor) SubscribeTransitions(id string, buf int) (<-chan Event, func(), error) {
	if buf < 1 {
		buf = 1
	}
	h := &m.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.subs) >= MaxTransitionSubscribers {
		return nil, nil, ErrTooManySubscribers
	}
	if h.subs == nil {
		h.subs = map[*transitionSub]struct{}{}
	}
	s := &transitionSub{ch: make(chan Event, buf), check: id}
	h.subs[s] = struct{}{}
	return s.ch, func() { h.drop(s) }, nil
}

// drop removes s and closes its channel, once.
func (h *transitionHub) drop(s *transitionSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.ch)
	}
}

// publish hands ev to every subscriber that wants it, dropping those whose
// buffer is full.
func (h *transitionHub) publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.check != "" && s.check != ev.Check {
			continue
		}
		select {
		case s.ch <- ev:
		default:
			delete(h.subs, s)
			close(s.ch)
		}
	}
}
