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
	"strings"
	"sync"
	"time"
	"unicode"

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
	// Relay streams measurements between servers sharing a bus (relay.go);
	// nil means streams are this process's own.
	Relay Relay
	// Workers bounds the measurements running at once; 0 means 32.
	Workers int
	// ClientShare bounds the workers one client holds at once; 0 means a
	// quarter of Workers (at least 1).
	ClientShare int
	// ClientQueue bounds one client's measurements waiting or running;
	// more are refused with a *BusyError. 0 means 64.
	ClientQueue int
	// EventBuffer is each live subscriber's buffer; 0 means 256.
	EventBuffer int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// After waits on the clock (lease renewals); nil means time.After.
	After func(time.Duration) <-chan time.Time
	// ServerID names this server process among those sharing the store:
	// its measurements are stored as its own, and its start-up fails only
	// its own unfinished ones. Empty means DefaultServerID.
	ServerID string
	// Lease is how long the claim on ServerID lasts unrenewed (it is
	// renewed three times per lease): unfinished measurements of a server
	// whose lease ended are failed by any other. 0 means 30 s.
	Lease time.Duration
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
	queue  *fairQueue
	wg     sync.WaitGroup
	runCtx context.Context
	stop   context.CancelFunc
	// abandon is closed when Shutdown's deadline passes: final writes stop
	// retrying (the next start-up fails what they left unfinished).
	abandon     chan struct{}
	abandonOnce sync.Once
	// owner holds the server's lease; stopOwner ends it after the
	// measurements end.
	owner     *owner
	stopOwner context.CancelFunc
}

// Reasons stored with measurements that could not end normally.
const (
	ReasonCrashed           = "interrupted: the server stopped (killed or crashed) before the measurement ended"
	ReasonShutdown          = "interrupted: the server shut down while the measurement ran"
	ReasonShutdownQueued    = "interrupted: the server shut down before the measurement started"
	reasonQueuedTimeoutForm = "timed out after %s waiting for a worker (the server is busy)"
)

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
	if cfg.ClientShare == 0 {
		cfg.ClientShare = max(1, cfg.Workers/4)
	}
	if cfg.ClientQueue == 0 {
		cfg.ClientQueue = 64
	}
	if cfg.EventBuffer == 0 {
		cfg.EventBuffer = 256
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	if cfg.ServerID == "" {
		cfg.ServerID = DefaultServerID
	}
	if cfg.Lease == 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Observe == nil {
		cfg.Observe = func(string, string) {}
	}
	s := &Service{cfg: cfg, reg: cfg.Registry, hub: newHub(cfg.EventBuffer, cfg.Relay), abandon: make(chan struct{}),
		queue: newFairQueue(cfg.Workers, cfg.ClientShare, cfg.ClientQueue)}
	s.runCtx, s.stop = context.WithCancel(context.Background())
	// Nothing runs yet: a queued or running row of this server id was left
	// by a process that died (kill -9, power loss), and one of a server
	// whose lease ended by another. They end now, with the reason.
	s.owner = &owner{id: cfg.ServerID, instance: newInstance(), lease: cfg.Lease, store: cfg.Store, now: cfg.Now,
		after: cfg.After, log: cfg.Log, done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.owner.claim(ctx); err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	octx, stopOwner := context.WithCancel(context.Background())
	s.stopOwner = stopOwner
	go s.owner.run(octx)
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
	// ClientID names the submitter and owner (an API key id, an anonymous
	// client's token hash); it is stored.
	ClientID string
	// Queue is the fairness key (an API key id, a client address or
	// network); empty means ClientID. Each queue waits separately, with a
	// bound, and holds at most its share of the workers.
	Queue string
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
	return s.admit(ctx, req, plan, locs[0])
}

// CreateEach creates one measurement per requested location (at least
// one: none means the default location), all validated before any is
// stored, and starts them in parallel; each is admitted to its client's
// queue, runs, streams and finishes or fails on its own.
func (s *Service) CreateEach(ctx context.Context, req Request) ([]*store.Measurement, error) {
	plan, locs, err := s.prepare(ctx, req, true)
	if err != nil {
		return nil, err
	}
	out := make([]*store.Measurement, 0, len(locs))
	for _, loc := range locs {
		m, err := s.admit(ctx, req, plan, loc)
		if err != nil {
			return out, fmt.Errorf("location %s: %w", loc, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// admit queues a prepared measurement for its client (a full queue is a
// *BusyError), stores it as queued and starts it at loc; the returned copy
// is what was accepted.
func (s *Service) admit(ctx context.Context, req Request, plan *measure.Plan, loc string) (*store.Measurement, error) {
	queue := req.Queue
	if queue == "" {
		queue = req.ClientID
	}
	// The deadline counts from acceptance: time spent waiting for a worker
	// is part of the measurement's timeout.
	accepted := s.cfg.Now()
	j, err := s.queue.admit(queue)
	if err != nil {
		return nil, err
	}
	m := &store.Measurement{Type: plan.Kind, Target: redactURL(plan.Target), Options: redactJSON(plan.Options), Locations: []string{loc},
		Status: store.StatusQueued, ClientID: req.ClientID, CreatedAt: accepted, Owner: s.cfg.ServerID}
	if err := s.cfg.Store.CreateMeasurement(ctx, m); err != nil {
		if !s.queue.withdraw(j) {
			s.queue.release(j)
		}
		return nil, fmt.Errorf("storing measurement: %w", err)
	}
	out := *m // the worker owns m from here on
	s.start(j, m, plan, s.dispatcher(loc))
	return &out, nil
}

// Prepare validates a request (kind, target, options, locations) and
// applies the target policy, without storing or running anything.
func (s *Service) Prepare(ctx context.Context, req Request) (*measure.Plan, []string, error) {
	return s.prepare(ctx, req, false)
}

func (s *Service) prepare(ctx context.Context, req Request, many bool) (*measure.Plan, []string, error) {
	if i := strings.IndexFunc(req.Target, unicode.IsControl); i >= 0 {
		return nil, nil, &measure.FieldError{Field: "target", Detail: fmt.Sprintf("control character at byte %d (NUL and other control bytes are refused); a target is a name, an address or a URL", i)}
	}
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

// start runs a measurement in the background when its client's turn
// comes, streaming its events and storing its result.
func (s *Service) start(j *job, m *store.Measurement, plan *measure.Plan, d Dispatcher) {
	s.hub.open(m.ID)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.hub.close(m.ID)
		ctx, cancel := context.WithDeadline(s.runCtx, m.CreatedAt.Add(plan.Timeout))
		defer cancel()
		select {
		case <-j.start:
		case <-ctx.Done():
			if s.queue.withdraw(j) {
				reason := fmt.Errorf(reasonQueuedTimeoutForm, plan.Timeout)
				if s.runCtx.Err() != nil {
					reason = errors.New(ReasonShutdownQueued)
				}
				s.finish(m, nil, reason)
				return
			}
			<-j.start // it was given a worker meanwhile
		}
		defer s.queue.release(j)
		if s.runCtx.Err() != nil {
			// Given a worker as the service shut down (a running one was
			// cancelled): it never started.
			s.finish(m, nil, errors.New(ReasonShutdownQueued))
			return
		}
		s.run(ctx, m, plan, d)
	}()
}

// run dispatches a measurement that holds a worker.
func (s *Service) run(ctx context.Context, m *store.Measurement, plan *measure.Plan, d Dispatcher) {
	m.Status, m.StartedAt = store.StatusRunning, s.cfg.Now()
	if err := s.cfg.Store.UpdateMeasurement(ctx, m); err != nil {
		s.cfg.Log.Error("marking measurement running", "id", m.ID, "err", err)
	}
	s.hub.publish(m.ID, "status", map[string]string{"status": store.StatusRunning})
	s.cfg.Observe(m.Type, store.StatusRunning)
	result, err := d.Dispatch(ctx, plan, func(typ string, data any) { s.hub.publish(m.ID, typ, data) })
	if s.runCtx.Err() != nil {
		// Cut short by shutdown: whatever the engine made of its cancelled
		// context (an error, or a result recording a timeout), it was
		// interrupted.
		result, err = nil, errors.New(ReasonShutdown)
	} else if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s", plan.Timeout)
	}
	s.finish(m, result, err)
}

// finish stores the outcome, retrying until the store takes it, then
// publishes it as the stream's last event: what subscribers are told last
// is what is stored.
func (s *Service) finish(m *store.Measurement, result any, runErr error) {
	m.FinishedAt = s.cfg.Now()
	if runErr != nil {
		m.Status, m.Error = store.StatusFailed, runErr.Error()
		if errors.Is(runErr, netpolicy.ErrDenied) {
			m.Error = "target refused by policy: " + runErr.Error()
		}
	} else {
		m.Status = store.StatusFinished
		raw, err := json.Marshal(result)
		if err != nil {
			m.Status, m.Error = store.StatusFailed, "encoding result: "+err.Error()
		}
		m.Result = redactJSON(raw)
	}
	if !s.storeFinal(m) {
		return // abandoned at shutdown: the next start-up fails the row
	}
	s.cfg.Observe(m.Type, outcome(s.reg, m.Type, m.Status, result))
	s.hub.publish(m.ID, "result", Public(m))
}

// storeFinal writes a measurement's final state, retrying with backoff
// while the store is unavailable, until it succeeds or Shutdown gives up.
// A result the store refuses (ErrInvalid) is stored as a failure saying so.
func (s *Service) storeFinal(m *store.Measurement) bool {
	wait := 50 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := s.cfg.Store.UpdateMeasurement(ctx, m)
		cancel()
		switch {
		case err == nil:
			return true
		case errors.Is(err, store.ErrNotFound):
			return false // deleted meanwhile (retention)
		case errors.Is(err, store.ErrInvalid) && m.Result != nil:
			m.Status, m.Error, m.Result = store.StatusFailed, "the store refused the result: "+err.Error(), nil
			continue
		}
		s.cfg.Log.Error("storing measurement result; retrying", "id", m.ID, "err", err, "retry_in", wait)
		select {
		case <-time.After(wait):
		case <-s.abandon:
			return false
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// outcome is "finished" for a run that measured something healthy and
// "failed" for one that could not run or found a failure (a diagnosis
// naming a broken layer, a trace that did not reach its target).
func outcome(reg *measure.Registry, kind, status string, result any) string {
	if status != "finished" {
		return status
	}
	// A result may be the engine's value or its JSON (from an agent):
	// the kind's Values reads both.
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

// Each calls fn with each measurement matching f, newest first, one at a
// time (for streamed pages).
func (s *Service) Each(ctx context.Context, f store.Filter, fn func(*store.Measurement) error) error {
	return s.cfg.Store.EachMeasurement(ctx, f, fn)
}

// Subscribe returns a running measurement's events so far and a channel of
// the ones to come (closed after "result", or when the subscriber lags);
// live is false when the measurement is not running, here or (with a
// Relay) on another server. cancel must be called.
func (s *Service) Subscribe(id string) (replay []Event, events <-chan Event, cancel func(), live bool) {
	replay, sub, cancel, live := s.hub.subscribe(id)
	if sub != nil {
		events = sub.ch
	}
	if !live && s.cfg.Relay != nil {
		return s.follow(id)
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

// Shutdown stops running and waiting measurements (stored as failed,
// "interrupted", and sent to their streams) and waits for them, or for
// ctx: then final writes still retrying are abandoned, and the next
// start-up fails those rows. Then it releases the server's lease.
func (s *Service) Shutdown(ctx context.Context) error {
	s.stop()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		s.abandonOnce.Do(func() { close(s.abandon) })
		err = fmt.Errorf("waiting for measurements to stop: %w", ctx.Err())
	}
	s.stopOwner()
	<-s.owner.done
	return err
}
