package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/runner"
	"github.com/dnsscience/dnsscience/internal/store"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

// Lists are pages of at most listMaxLimit measurements, as in the REST
// face; a result over listMaxResult characters is left out of a list.
const (
	listMaxLimit  = 100
	listMaxResult = 16 << 10
)

// request builds the service's request: the options of the kind's field of
// MeasurementOptions as JSON (the registry validates them as REST's
// options object), after the kind's rate limit is counted.
func (r *Resolver) request(ctx context.Context, kind, target string, locations []string, options map[string]any) (runner.Request, error) {
	reg := r.opt.Service.Registry()
	k, ok := reg.Lookup(kind)
	if !ok {
		return runner.Request{}, &measure.FieldError{Field: "type", Detail: fmt.Sprintf("unknown measurement type %q; want one of %s", kind, strings.Join(reg.Names(), ", "))}
	}
	name := k.Info().Name
	var raw json.RawMessage
	for _, field := range sortedKeys(options) {
		if field != name {
			return runner.Request{}, &measure.FieldError{Field: "options." + field, Detail: fmt.Sprintf("options of %s measurements given to a %s measurement; give options.%s", field, name, name)}
		}
		b, err := json.Marshal(dropNulls(options[field]))
		if err != nil {
			return runner.Request{}, &measure.FieldError{Field: "options." + field, Detail: err.Error()}
		}
		raw = b
	}
	req := fromContext(ctx)
	if err := r.opt.Callers.Limit(req.w, req.caller, k.Info().Class); err != nil {
		return runner.Request{}, err
	}
	c := req.caller
	if req.w != nil {
		c = r.opt.Callers.EnsureOwner(req.w, c)
		req.caller = c
	}
	return runner.Request{Kind: kind, Target: target, Options: raw, Locations: locations, ClientID: c.Owner, Queue: queueOf(c)}, nil
}

// queueOf is the caller's fairness queue: the REST face's limit key when
// it gives one.
func queueOf(c Caller) string {
	if q, ok := c.Private.(interface{ Queue() string }); ok {
		return q.Queue()
	}
	return ""
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v != nil && !isNilPointer(v) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// dropNulls leaves out options given as null (as if not given); gqlgen
// hands them over as nil pointers.
func dropNulls(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		if x != nil && !isNilPointer(x) {
			out[k] = x
		}
	}
	return out
}

func isNilPointer(v any) bool {
	switch p := v.(type) {
	case *string:
		return p == nil
	case *int:
		return p == nil
	case *bool:
		return p == nil
	case map[string]any:
		return p == nil
	}
	return false
}

// visible is a measurement as the caller may see it: only its owner sees
// who created it.
func visible(ctx context.Context, m *store.Measurement) *store.Measurement {
	if m.ClientID == "" || m.ClientID != fromContext(ctx).caller.Owner {
		return runner.Public(m)
	}
	return m
}

// rawJSON is stored JSON as a value for the JSON scalar (nil when empty).
func rawJSON(b json.RawMessage) (any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("decoding stored JSON: %w", err)
	}
	return v, nil
}

// hopsOf is a finished trace's hops.
func hopsOf(m *store.Measurement) ([]*traceroute.Hop, error) {
	if m.Type != "trace" || len(m.Result) == 0 {
		return nil, nil
	}
	var res struct {
		Hops []*traceroute.Hop `json:"hops"`
	}
	if err := json.Unmarshal(m.Result, &res); err != nil {
		return nil, fmt.Errorf("decoding trace %s: %w", m.ID, err)
	}
	return res.Hops, nil
}

// events streams a measurement's events: those so far, each new one, and
// last its final state (also when the stream was cut because this
// subscriber lagged: the state is then read from the store once the
// measurement ends... or as it is now).
func (r *Resolver) events(ctx context.Context, id string) (<-chan *runner.Event, error) {
	svc := r.opt.Service
	release, err := holdSubscription(ctx)
	if err != nil {
		return nil, err
	}
	replay, live, cancel, running := svc.Subscribe(id)
	if !running {
		cancel()
		m, err := svc.Get(ctx, id)
		if err != nil {
			release()
			return nil, notFoundErr(id, err)
		}
		raw, _ := json.Marshal(runner.Public(m))
		replay = []runner.Event{{Seq: 1, Type: "result", Data: raw}}
	}
	out := make(chan *runner.Event, 1)
	go func() {
		defer release()
		defer close(out)
		defer cancel()
		last := ""
		send := func(ev runner.Event) bool {
			select {
			case out <- &ev:
				last = ev.Type
				return true
			case <-ctx.Done():
				return false
			}
		}
		for _, ev := range replay {
			if !send(ev) {
				return
			}
		}
		for live != nil {
			select {
			case ev, ok := <-live:
				if !ok {
					live = nil
					continue
				}
				if !send(ev) {
					return
				}
			case <-ctx.Done():
				return
			}
		}
		if last != "result" && running {
			// Cut short (this subscriber fell behind): end with the state
			// as stored.
			if m, err := svc.Get(ctx, id); err == nil {
				raw, _ := json.Marshal(runner.Public(m))
				send(runner.Event{Seq: -1, Type: "result", Data: raw})
			}
		}
	}()
	return out, nil
}

// notFoundErr is the REST face's not-found for a missing measurement.
func notFoundErr(id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &NotFound{What: fmt.Sprintf("no measurement %q", id)}
	}
	return err
}

// NotFound is a missing thing; the REST face answers it 404.
type NotFound struct{ What string }

func (e *NotFound) Error() string { return e.What }

// listFilter is a list's filter, checked as the REST face checks it.
func (r *Resolver) listFilter(kind, status *string, limit *int, before *time.Time) (store.Filter, error) {
	f := store.Filter{Limit: 20, MaxResult: listMaxResult}
	if kind != nil {
		f.Type = *kind
		if k, ok := r.opt.Service.Registry().Lookup(f.Type); ok {
			f.Type = k.Info().Name
		}
	}
	if status != nil {
		f.Status = *status
	}
	if limit != nil {
		if *limit < 1 || *limit > listMaxLimit {
			return f, &measure.FieldError{Field: "limit", Detail: fmt.Sprintf("want 1 to %d (page on with before=)", listMaxLimit)}
		}
		f.Limit = *limit
	}
	if before != nil {
		f.Before = *before
	}
	return f, nil
}
