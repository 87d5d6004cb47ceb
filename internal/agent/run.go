package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dnsscience/dnsscience/internal/bus"
)

// subscribe listens for work and cancellations.
func (a *Agent) subscribe(ctx context.Context) error {
	if _, err := a.conn.Subscribe(bus.WorkSubject(a.name), func(m *nats.Msg) { a.work(ctx, m) }); err != nil {
		return fmt.Errorf("subscribing to work: %w", err)
	}
	if _, err := a.conn.Subscribe(bus.CancelSubject(a.name), func(m *nats.Msg) { a.cancel(string(m.Data)) }); err != nil {
		return fmt.Errorf("subscribing to cancellations: %w", err)
	}
	if err := a.conn.Flush(); err != nil {
		return fmt.Errorf("subscribing: %w", err)
	}
	return nil
}

// work prepares a measurement with the agent's own registry and env,
// answers whether it accepts it, and runs it.
func (a *Agent) work(ctx context.Context, m *nats.Msg) {
	var w bus.Work
	reply := func(err error) {
		var acc bus.Accept
		if err != nil {
			acc.Error = err.Error()
		}
		b, _ := json.Marshal(acc)
		_ = m.Respond(b)
	}
	if err := json.Unmarshal(m.Data, &w); err != nil {
		reply(fmt.Errorf("decoding work: %w", err))
		return
	}
	k, ok := a.cfg.Registry.Lookup(w.Kind)
	if !ok {
		reply(fmt.Errorf("this agent does not know the kind %q (version %s)", w.Kind, a.cfg.Version))
		return
	}
	plan, err := k.Prepare(ctx, a.cfg.Env, w.Target, w.Options)
	if err != nil {
		reply(err)
		return
	}
	timeout := plan.Timeout
	if w.TimeoutMS > 0 {
		timeout = time.Duration(w.TimeoutMS) * time.Millisecond
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	a.mu.Lock()
	a.running[w.Run] = cancel
	a.mu.Unlock()
	reply(nil)
	go func() {
		defer a.cancel(w.Run)
		subject := bus.EventSubject(a.name, w.Run)
		var mu sync.Mutex // engines may emit from several goroutines
		seq := 0
		send := func(ev bus.Event) {
			mu.Lock()
			defer mu.Unlock()
			seq++
			ev.Seq = seq
			b, err := json.Marshal(ev)
			if err != nil {
				b, _ = json.Marshal(bus.Event{Seq: seq, Type: "error", Error: "encoding an event: " + err.Error()})
			}
			_ = a.conn.Publish(subject, b) // buffered while reconnecting
		}
		result, err := plan.Run(rctx, func(typ string, data any) {
			raw, merr := json.Marshal(data)
			if merr == nil {
				send(bus.Event{Type: typ, Data: raw})
			}
		})
		if err != nil {
			send(bus.Event{Type: "error", Error: err.Error()})
			return
		}
		raw, err := json.Marshal(result)
		if err != nil {
			send(bus.Event{Type: "error", Error: "encoding the result: " + err.Error()})
			return
		}
		send(bus.Event{Type: "result", Data: raw})
	}()
}

// cancel stops a run (the server gave up on it, or it ended).
func (a *Agent) cancel(run string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.running[run]; ok {
		c()
		delete(a.running, run)
	}
}

func (a *Agent) stopAll() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for run, c := range a.running {
		c()
		delete(a.running, run)
	}
}

// heartbeat announces the agent.
func (a *Agent) heartbeat() {
	a.mu.Lock()
	n := len(a.running)
	a.mu.Unlock()
	hb := bus.Heartbeat{Name: a.name, Display: a.cfg.Display, City: a.cfg.City, Country: a.cfg.Country,
		Latitude: a.cfg.Latitude, Longitude: a.cfg.Longitude, ASN: a.cfg.ASN, Version: a.cfg.Version,
		IntervalMS: a.cfg.Heartbeat.Milliseconds(), Running: n, Address: a.cfg.PublicAddress}
	if hb.Address == "" && a.ws != nil {
		hb.Address = a.ws.address()
	}
	b, _ := json.Marshal(hb)
	_ = a.conn.Publish(bus.HeartbeatSubject(a.name), b)
}
