package bus

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dnsscience/dnsscience/internal/runner"
)

// Live streams between servers: the server running a measurement publishes
// each event on dnsscience.stream.ID.ev and answers requests on
// dnsscience.stream.ID.replay with the events so far; another server's
// subscriber subscribes, then asks, and skips what the replay held.
const streamPrefix = "dnsscience.stream."

// relayCheck is how often a follower asks whether the measurement still
// runs when no event came.
const relayCheck = 5 * time.Second

// relay is runner.Relay on the shared NATS.
type relay struct{ conn *nats.Conn }

// Relay streams measurements between the servers sharing External; nil
// without External (one server: streams are its own).
func (b *Bus) Relay() runner.Relay {
	if b.cfg.External == "" {
		return nil
	}
	return relay{conn: b.shared}
}

func (r relay) Publish(id string, ev runner.Event) {
	b, err := json.Marshal(ev)
	if err == nil {
		_ = r.conn.Publish(streamPrefix+id+".ev", b) // too large: followers read the stored result
	}
}

func (r relay) Serve(id string, replay func() []runner.Event) func() {
	sub, err := r.conn.Subscribe(streamPrefix+id+".replay", func(m *nats.Msg) {
		b, err := json.Marshal(replay())
		if err == nil {
			_ = m.Respond(b)
		}
	})
	if err != nil {
		return func() {}
	}
	_ = r.conn.Flush()
	return func() { _ = sub.Unsubscribe() }
}

// ask requests the events so far; ok is false when no server runs id.
func (r relay) ask(id string) ([]runner.Event, bool) {
	resp, err := r.conn.Request(streamPrefix+id+".replay", nil, 2*time.Second)
	if err != nil {
		return nil, false
	}
	var evs []runner.Event
	if err := json.Unmarshal(resp.Data, &evs); err != nil {
		return nil, false
	}
	return evs, true
}

func (r relay) Follow(id string, buffer int) ([]runner.Event, <-chan runner.Event, func(), bool) {
	msgs := make(chan *nats.Msg, max(buffer, 64))
	sub, err := r.conn.ChanSubscribe(streamPrefix+id+".ev", msgs)
	if err != nil {
		return nil, nil, func() {}, false
	}
	replay, ok := r.ask(id)
	if !ok {
		_ = sub.Unsubscribe()
		return nil, nil, func() {}, false
	}
	last := 0
	if n := len(replay); n > 0 {
		last = replay[n-1].Seq
	}
	out := make(chan runner.Event, max(buffer, 1))
	done := make(chan struct{})
	var once sync.Once
	cancel := func() { once.Do(func() { close(done); _ = sub.Unsubscribe() }) }
	go func() {
		defer close(out)
		defer cancel()
		check := time.NewTicker(relayCheck)
		defer check.Stop()
		for {
			select {
			case <-done:
				return
			case <-check.C:
				if _, ok := r.ask(id); !ok {
					return // its server stopped serving it
				}
			case m := <-msgs:
				var ev runner.Event
				if json.Unmarshal(m.Data, &ev) != nil || ev.Seq <= last {
					continue
				}
				last = ev.Seq
				select {
				case out <- ev:
				default:
					return // lagging: dropped, as a local subscriber is
				}
				if ev.Type == "result" {
					return
				}
			}
		}
	}()
	return replay, out, cancel, true
}

var _ runner.Relay = relay{}
