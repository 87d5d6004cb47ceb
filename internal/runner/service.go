// Package runner is the measurement service: the one way a measurement is
// created (validated by the registry, checked against the target policy,
// stored), run on bounded workers at its location through a Dispatcher,
// watched live and read back. The HTTP server, and every other face, call
// it; none holds measurement logic of its own.
package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/store"
)

// Config is what the service needs; zero values are documented defaults.
type Config struct {
	// Registry lists the kinds; nil means measure.New().
	Registry *measure.Registry
	// Store keeps measurements. Required.
	Store *store.Store
	// Env is what local runs use (policy, resolvers, geo ...). Required.
	Env *measure.Env
	// Locations are where measurements can run; the first is the default.
	// Empty means one location "local" named "This server".
	Locations []Location
	// Dispatchers run measurements per location id; the first location
	// gets Local{} when it has none. A location without one is offline.
	Dispatchers map[string]Dispatcher
	// Remote adds locations served by agents; nil means none.
	Remote Remote
	// Workers bounds the measurements running at once; 0 means 32.
	Workers int
	// EventBuffer is each live subscriber's buffer; 0 means 256.
	EventBuffer int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives errors of background work; nil discards them.
	Log *slog.Logger
	// Observe, when set, is told of every run's start (status "running")
	// and end ("finished", "failed").
	Observe func(kind, status string)
}

// Service is the measurement service. Build it with New.
type Service struct {
	cfg    Config
	reg    *measure.Registry
	hub    *hub
	sem    chan struct{}
	wg     sync.WaitGroup
	runCtx context.Context
	stop   context.CancelFunc
}

// New builds a service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Env == nil {
		return nil, errors.New("runner: a store and an env are required")
	}
	if cfg.Registry == nil {
		cfg.Registry = measure.New()
	}
	if len(cfg.Locations) == 0 {
		cfg.Locations = []Location{{ID: "local", Name: "This server", Provider: "self"}}
	}
	if cfg.Dispatchers == nil {
		cfg.Dispatchers = map[string]Dispatcher{}
	}
	if _, ok := cfg.Dispatchers[cfg.Locations[0].ID]; !ok {
		cfg.Dispatchers[cfg.Locations[0].ID] = Local{}
	}
	if cfg.Workers == 0 {
		cfg.Workers = 32
	}
	if cfg.EventBuffer == 0 {
		cfg.EventBuffer = 256
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Observe == nil {
		cfg.Observe = func(string, string) {}
	}
	s := &Service{cfg: cfg, reg: cfg.Registry, hub: newHub(cfg.EventBuffer), sem: make(chan struct{}, cfg.Workers)}
	s.runCtx, s.stop = context.WithCancel(context.Background())
	return s, nil
}

// Registry is the service's registry of kinds.
func (s *Service) Registry() *measure.Registry { return s.reg }

// Env is the environment of local runs.
func (s *Service) Env() *measure.Env { return s.cfg.Env }

// Request asks for a measurement.
type Request struct {
	Kind      string
	Target    string
	Options   json.RawMessage
	Locations []string
	// ClientID names the submitter (an API key id or a client address).
	ClientID string
}

// ErrPolicy wraps a refusal by the target policy (netpolicy.ErrDenied).
var ErrPolicy = netpolicy.ErrDenied

// Create validates, checks the policy, stores the measurement as queued
// and starts it; the returned copy is what was accepted. Bad input is a
// *measure.FieldError; a refused target wraps netpolicy.ErrDenied.
func (s *Service) Create(ctx context.Context, req Request) (*store.Measurement, error) {
	plan, locs, err := s.Prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	m := &store.Measurement{Type: plan.Kind, Target: plan.Target, Options: plan.Options, Locations: locs, Status: "queued", ClientID: req.ClientID}
	if err := s.cfg.Store.CreateMeasurement(ctx, m); err != nil {
		return nil, fmt.Errorf("storing measurement: %w", err)
	}
	accepted := *m // the worker owns m from here on
	s.start(m, plan, s.dispatcher(locs[0]))
	return &accepted, nil
}

// CreateEach creates one measurement per requested location (at least
// one: none means the default location), all validated before any is
// stored, and starts them in parallel; each runs, streams and finishes or
// fails on its own.
func (s *Service) CreateEach(ctx context.Context, req Request) ([]*store.Measurement, error) {
	plan, locs, err := s.prepare(ctx, req, true)
	if err != nil {
		return nil, err
	}
	out := make([]*store.Measurement, 0, len(locs))
	for _, loc := range locs {
		m := &store.Measurement{Type: plan.Kind, Target: plan.Target, Options: plan.Options, Locations: []string{loc}, Status: "queued", ClientID: req.ClientID}
		if err := s.cfg.Store.CreateMeasurement(ctx, m); err != nil {
			return out, fmt.Errorf("storing measurement for location %s: %w", loc, err)
		}
		accepted := *m
		s.start(m, plan, s.dispatcher(loc))
		out = append(out, &accepted)
	}
	return out, nil
}

// Prepare validates a request (kind, target, options, locations) and
// applies the target policy, without storing or running anything.
func (s *Service) Prepare(ctx context.Context, req Request) (*measure.Plan, []string, error) {
	return s.prepare(ctx, req, false)
}

func (s *Service) prepare(ctx context.Context, req Request, many bool) (*measure.Plan, []string, error) {
	k, ok := s.reg.Lookup(req.Kind)
	if !ok {
		_, err := s.reg.Prepare(ctx, s.cfg.Env, req.Kind, req.Target, req.Options)
		return nil, nil, err
	}
	locs, err := s.checkLocations(req.Locations, many)
	if err != nil {
		return nil, nil, err
	}
	plan, err := k.Prepare(ctx, s.cfg.Env, req.Target, req.Options)
	if err != nil {
		return nil, nil, err
	}
	if k.Info().Connects {
		if err := s.cfg.Env.CheckHosts(ctx, plan.Hosts); err != nil {
			return nil, nil, err
		}
	}
	return plan, locs, nil
}

// checkLocations accepts known location ids that can run now, once each;
// none means the first location. Several are refused unless many.
func (s *Service) checkLocations(ids []string, many bool) ([]string, error) {
	if len(ids) == 0 {
		return []string{s.cfg.Locations[0].ID}, nil
	}
	ids, err := s.expand(ids)
	if err != nil {
		return nil, err
	}
	if len(ids) > 1 && !many {
		return nil, &measure.FieldError{Field: "locations", Detail: "one location per measurement; create one measurement per location"}
	}
	seen := map[string]bool{}
	for i, id := range ids {
		if seen[id] {
			return nil, &measure.FieldError{Field: fmt.Sprintf("locations[%d]", i), Detail: fmt.Sprintf("location %q is listed twice", id)}
		}
		seen[id] = true
		l, ok := s.location(id)
		if !ok {
			return nil, &measure.FieldError{Field: fmt.Sprintf("locations[%d]", i), Detail: fmt.Sprintf("unknown location %q; see GET /api/v1/locations", id)}
		}
		if online, why := s.online(id); !online {
			return nil, &measure.FieldError{Field: fmt.Sprintf("locations[%d]", i), Detail: fmt.Sprintf("location %q (%s) cannot run measurements now: %s", id, l.Name, why)}
		}
	}
	return ids, nil
}

func (s *Service) location(id string) (Location, bool) {
	for _, l := range s.cfg.Locations {
		if l.ID == id {
			return l, true
		}
	}
	if s.cfg.Remote != nil {
		for _, l := range s.cfg.Remote.Locations() {
			if l.ID == id {
				return l.Location, true
			}
		}
	}
	return Location{}, false
}

// dispatcher is the location's dispatcher, or nil.
func (s *Service) dispatcher(id string) Dispatcher {
	if d, ok := s.cfg.Dispatchers[id]; ok {
		return d
	}
	if s.cfg.Remote != nil {
		if d, ok := s.cfg.Remote.Dispatcher(id); ok {
			return d
		}
	}
	return nil
}

func (s *Service) online(id string) (bool, string) {
	d := s.dispatcher(id)
	if d == nil {
		return false, "no agent serves it"
	}
	return d.Online()
}

// Locations lists every location with its real state.
func (s *Service) Locations() []LocationStatus {
	out := make([]LocationStatus, 0, len(s.cfg.Locations))
	for _, l := range s.cfg.Locations {
		st := LocationStatus{Location: l, Status: "online"}
		if ok, why := s.online(l.ID); !ok {
			st.Status, st.Reason = "offline", why
		}
		out = append(out, st)
	}
	if s.cfg.Remote != nil {
		for _, l := range s.cfg.Remote.Locations() {
			if !s.configured(l.ID) {
				out = append(out, l)
			}
		}
	}
	return out
}

// configured reports whether id is one of the configured locations.
func (s *Service) configured(id string) bool {
	for _, l := range s.cfg.Locations {
		if l.ID == id {
			return true
		}
	}
	return false
}

// start runs a measurement in the background, streaming its events and
// storing its result.
func (s *Service) start(m *store.Measurement, plan *measure.Plan, d Dispatcher) {
	s.hub.open(m.ID)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.hub.close(m.ID)
		select {
		case s.sem <- struct{}{}:
			defer func() { <-s.sem }()
		case <-s.runCtx.Done():
			s.finish(m, nil, errors.New("server shutting down before the measurement started"))
			return
		}
		ctx, cancel := context.WithTimeout(s.runCtx, plan.Timeout)
		defer cancel()
		m.Status, m.StartedAt = "running", s.cfg.Now()
		if err := s.cfg.Store.UpdateMeasurement(ctx, m); err != nil {
			s.cfg.Log.Error("marking measurement running", "id", m.ID, "err", err)
		}
		s.hub.publish(m.ID, "status", map[string]string{"status": "running"})
		s.cfg.Observe(m.Type, "running")
		result, err := d.Dispatch(ctx, plan, func(typ string, data any) { s.hub.publish(m.ID, typ, data) })
		if err != nil && s.runCtx.Err() != nil {
			err = errors.New("server shut down while the measurement ran")
		} else if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			err = fmt.Errorf("timed out after %s", plan.Timeout)
		}
		s.finish(m, result, err)
	}()
}

// finish stores the outcome and publishes the final event.
func (s *Service) finish(m *store.Measurement, result any, runErr error) {
	m.FinishedAt = s.cfg.Now()
	if runErr != nil {
		m.Status, m.Error = "failed", runErr.Error()
		if errors.Is(runErr, netpolicy.ErrDenied) {
			m.Error = "target refused by policy: " + runErr.Error()
		}
	} else {
		m.Status = "finished"
		raw, err := json.Marshal(result)
		if err != nil {
			m.Status, m.Error = "failed", "encoding result: "+err.Error()
		}
		m.Result = raw
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.cfg.Store.UpdateMeasurement(ctx, m); err != nil {
		s.cfg.Log.Error("storing measurement result", "id", m.ID, "err", err)
	}
	s.cfg.Observe(m.Type, outcome(s.reg, m.Type, m.Status, result))
	s.hub.publish(m.ID, "result", m)
}

// outcome is "finished" for a run that measured something healthy and
// "failed" for one that could not run or found a failure (a diagnosis
// naming a broken layer, a trace that did not reach its target).
func outcome(reg *measure.Registry, kind, status string, result any) (out string) {
	if status != "finished" {
		return status
	}
	if _, remote := result.(json.RawMessage); remote {
		// An agent's result arrives encoded; kinds read typed results only.
		return status
	}
	// A dispatcher may return another shape than the kind's own; its
	// Values cannot read it, and the run counts by its status.
	defer func() {
		if recover() != nil {
			out = status
		}
	}()
	if k, ok := reg.Lookup(kind); ok {
		if ok, _ := k.Values(result).Lookup("ok"); ok == false {
			return "failed"
		}
	}
	return status
}

// Get reads a measurement.
func (s *Service) Get(ctx context.Context, id string) (*store.Measurement, error) {
	return s.cfg.Store.GetMeasurement(ctx, id)
}

// List reads measurements, newest first.
func (s *Service) List(ctx context.Context, f store.Filter) ([]store.Measurement, error) {
	return s.cfg.Store.ListMeasurements(ctx, f)
}

// Subscribe returns a running measurement's events so far and a channel of
// the ones to come (closed after "result", or when the subscriber lags);
// live is false when the measurement is not running. cancel must be called.
func (s *Service) Subscribe(id string) (replay []Event, events <-chan Event, cancel func(), live bool) {
	replay, sub, cancel, live := s.hub.subscribe(id)
	if sub != nil {
		events = sub.ch
	}
	return replay, events, cancel, live
}

// Subscribers counts a running measurement's live subscribers.
func (s *Service) Subscribers(id string) int {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if t, ok := s.hub.topics[id]; ok {
		return len(t.subs)
	}
	return 0
}

// Done is closed when the service begins shutting down.
func (s *Service) Done() <-chan struct{} { return s.runCtx.Done() }

// Shutdown stops running measurements (stored as failed with the reason)
// and waits for them, or for ctx.
func (s *Service) Shutdown(ctx context.Context) error {
	s.stop()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for measurements to stop: %w", ctx.Err())
	}
}
