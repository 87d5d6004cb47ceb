package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/runner"
)

// workAcceptTimeout bounds the wait for an agent to accept work.
const workAcceptTimeout = 5 * time.Second

// Dispatcher runs measurements on one agent.
type Dispatcher struct {
	agent string
	conn  *nats.Conn
	reg   *registry
}

// Locations lists the agents as locations (runner.Remote).
func (b *Bus) Locations() []runner.LocationStatus { return b.reg.Locations() }

// Dispatcher returns the agent's dispatcher (runner.Remote).
func (b *Bus) Dispatcher(name string) (runner.Dispatcher, bool) {
	b.reg.mu.Lock()
	_, ok := b.reg.agents[name]
	b.reg.mu.Unlock()
	if !ok {
		return nil, false
	}
	return &Dispatcher{agent: name, conn: b.shared, reg: b.reg}, true
}

// Changed returns a channel closed at the next change of an agent's state
// (online, offline, revoked).
func (b *Bus) Changed() <-chan struct{} {
	b.reg.mu.Lock()
	defer b.reg.mu.Unlock()
	return b.reg.changed
}

// Online is true while the agent's heartbeats arrive.
func (d *Dispatcher) Online() (bool, string) {
	ok, why, _ := d.reg.live(d.agent)
	return ok, why
}

// Dispatch sends the plan to the agent and relays its events until its
// result; the agent going silent fails the run with the reason.
func (d *Dispatcher) Dispatch(ctx context.Context, p *measure.Plan, emit measure.Emit) (any, error) {
	ok, why, gone := d.reg.live(d.agent)
	if !ok {
		return nil, fmt.Errorf("agent %s is offline: %s", d.agent, why)
	}
	run := nuid.Next()
	events := make(chan *nats.Msg, 4096)
	sub, err := d.conn.ChanSubscribe(EventSubject(d.agent, run), events)
	if err != nil {
		return nil, fmt.Errorf("subscribing to agent %s: %w", d.agent, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	w := Work{Run: run, Kind: p.Kind, Target: p.Target, Options: p.Options, TimeoutMS: p.Timeout.Milliseconds()}
	if err := d.send(ctx, w); err != nil {
		return nil, err
	}
	for {
		select {
		case <-ctx.Done():
			_ = d.conn.Publish(CancelSubject(d.agent), []byte(run))
			return nil, ctx.Err()
		case <-gone:
			_, why, _ := d.reg.live(d.agent)
			return nil, fmt.Errorf("agent %s was lost during the measurement: %s", d.agent, why)
		case m := <-events:
			var ev Event
			if err := json.Unmarshal(m.Data, &ev); err != nil {
				return nil, fmt.Errorf("agent %s sent a bad event: %w", d.agent, err)
			}
			switch ev.Type {
			case "result":
				return ev.Data, nil
			case "error":
				return nil, errors.New(ev.Error)
			default:
				emit(ev.Type, ev.Data)
			}
		}
	}
}

// send asks the agent to run w and waits for it to accept.
func (d *Dispatcher) send(ctx context.Context, w Work) error {
	body, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("encoding work: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, workAcceptTimeout)
	defer cancel()
	resp, err := d.conn.RequestWithContext(rctx, WorkSubject(d.agent), body)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			return fmt.Errorf("agent %s is not connected", d.agent)
		}
		return fmt.Errorf("sending the measurement to agent %s: %w", d.agent, err)
	}
	var a Accept
	if err := json.Unmarshal(resp.Data, &a); err != nil {
		return fmt.Errorf("agent %s answered badly: %w", d.agent, err)
	}
	if a.Error != "" {
		return fmt.Errorf("agent %s refused the measurement: %s", d.agent, a.Error)
	}
	return nil
}
