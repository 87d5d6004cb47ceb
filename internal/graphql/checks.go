package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dnsscience/dnsscience/internal/monitor"
)

// The admin's check mutations and the state-change subscription; the
// resolvers in resolvers.go call these.

// checkEditor is the face's CheckEditor, or an error when there is none.
func (r *Resolver) checkEditor() (CheckEditor, error) {
	if r.opt.Checks == nil {
		return nil, errors.New("graphql: check changes are not served here")
	}
	return r.opt.Checks, nil
}

// putCheck creates (id "") or replaces a check from a GraphQL JSON value.
func (r *Resolver) putCheck(ctx context.Context, id string, definition any) (*monitor.CheckView, error) {
	ed, err := r.checkEditor()
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(definition)
	if err != nil {
		return nil, fmt.Errorf("encoding the definition: %w", err)
	}
	v, err := ed.PutCheck(ctx, fromContext(ctx).caller, id, body)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// transitionBuffer is how many state changes a subscriber may fall behind
// before it is dropped.
const transitionBuffer = 64

// stateChanges streams the monitor's state changes (of check id, or all).
func (r *Resolver) stateChanges(ctx context.Context, id *string) (<-chan *monitor.Event, error) {
	m, err := r.monitor()
	if err != nil {
		return nil, err
	}
	want := ""
	if id != nil {
		want = *id
	}
	release, err := holdSubscription(ctx)
	if err != nil {
		return nil, err
	}
	in, cancel, err := m.SubscribeTransitions(want, transitionBuffer)
	if err != nil {
		release()
		return nil, err
	}
	out := make(chan *monitor.Event)
	go func() {
		defer release()
		defer close(out)
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- &ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
