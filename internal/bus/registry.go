package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dnsscience/dnsscience/internal/runner"
	"github.com/dnsscience/dnsscience/internal/store"
)

// agentState is what the registry knows of one agent.
type agentState struct {
	stored   store.Agent
	hb       Heartbeat
	lastSeen time.Time
	online   bool
	// gone is closed when the agent goes offline (or is revoked); a new
	// one is made when it comes back.
	gone chan struct{}
}

// registry tracks the agents on the bus from their heartbeats.
type registry struct {
	cfg  Config
	conn *nats.Conn

	mu     sync.Mutex
	agents map[string]*agentState
	// changed is closed (and replaced) when an agent comes, goes or is
	// forgotten.
	changed chan struct{}
}

func newRegistry(cfg Config, conn *nats.Conn) *registry {
	return &registry{cfg: cfg, conn: conn, agents: map[string]*agentState{}, changed: make(chan struct{})}
}

// notify wakes the watchers of changes; r.mu is held.
func (r *registry) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// load reads the registered agents.
func (r *registry) load(ctx context.Context) error {
	_, err := r.refresh(ctx)
	return err
}

// refresh re-reads the agents, marks silent ones offline and returns the
// names of agents revoked since the last refresh.
func (r *registry) refresh(ctx context.Context) ([]string, error) {
	list, err := r.cfg.Store.ListAgents(ctx)
	now := r.cfg.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var revoked []string
	if err == nil {
		for _, a := range list {
			st, ok := r.agents[a.Name]
			switch {
			case !a.RevokedAt.IsZero() && ok:
				revoked = append(revoked, a.Name)
				r.drop(a.Name)
			case !a.RevokedAt.IsZero():
			case ok:
				st.stored = a
			default:
				r.agents[a.Name] = &agentState{stored: a, lastSeen: a.LastSeenAt, gone: closedChan()}
				r.notify()
			}
		}
	}
	for name, st := range r.agents {
		if st.online && now.Sub(st.lastSeen) > 3*st.hb.Interval() {
			st.online = false
			close(st.gone)
			r.record(name, st)
			r.notify()
		}
	}
	if err != nil {
		return revoked, fmt.Errorf("listing agents: %w", err)
	}
	return revoked, nil
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// drop forgets an agent; r.mu is held.
func (r *registry) drop(name string) {
	if st, ok := r.agents[name]; ok {
		if st.online {
			close(st.gone)
		}
		delete(r.agents, name)
		r.notify()
	}
}

func (r *registry) forget(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.drop(name)
}

// heartbeat records an agent's announcement. The subject names the agent
// (its credential allows no other), not the message.
func (r *registry) heartbeat(m *nats.Msg) {
	name := strings.TrimSuffix(strings.TrimPrefix(m.Subject, subjectPrefix), ".hb")
	var hb Heartbeat
	if err := json.Unmarshal(m.Data, &hb); err != nil {
		r.cfg.Log.Warn("bad heartbeat", "agent", name, "err", err)
		return
	}
	hb.Name = name
	r.place(&hb)
	now := r.cfg.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	st, ok := r.agents[name]
	if !ok {
		// Registered by another process since the last refresh; it
		// authenticated, so it exists and is not revoked.
		st = &agentState{stored: store.Agent{Name: name, CreatedAt: now}, gone: closedChan()}
		r.agents[name] = st
	}
	st.hb, st.lastSeen = hb, now
	if !st.online {
		st.online, st.gone = true, make(chan struct{})
		r.record(name, st)
		r.notify()
	}
}

// record stores what the agent announced when it comes or goes; r.mu is
// held, so the write runs apart.
func (r *registry) record(name string, st *agentState) {
	a := st.stored
	a.Name, a.LastSeenAt = name, st.lastSeen
	if st.hb.Version != "" {
		a.City, a.Country, a.ASN, a.Version = st.hb.City, st.hb.Country, st.hb.ASN, st.hb.Version
		a.Latitude, a.Longitude = st.hb.Latitude, st.hb.Longitude
	}
	st.stored = a
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.cfg.Store.SeenAgent(ctx, a); err != nil {
			r.cfg.Log.Warn("recording agent", "agent", name, "err", err)
		}
	}()
}

// status is an agent's location and state; r.mu is held.
func (r *registry) status(name string, st *agentState) runner.LocationStatus {
	a := st.stored
	display := st.hb.Display
	if display == "" {
		display = name
	}
	l := runner.LocationStatus{Location: runner.Location{ID: name, Name: display, Provider: "agent", City: a.City, Country: a.Country,
		Latitude: a.Latitude, Longitude: a.Longitude, ASN: a.ASN, Version: a.Version}, Status: "online", LastSeen: st.lastSeen}
	if !st.online {
		l.Status, l.OfflineSince = "offline", st.lastSeen
		l.Reason = "agent not connected"
		if !st.lastSeen.IsZero() {
			l.Reason = "no heartbeat since " + st.lastSeen.UTC().Format(time.RFC3339)
		}
	}
	return l
}

// Locations lists the agents as locations, by name.
func (r *registry) Locations() []runner.LocationStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]runner.LocationStatus, 0, len(r.agents))
	for name, st := range r.agents {
		out = append(out, r.status(name, st))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// live returns whether the agent is online, why not, and a channel closed
// when it goes offline.
func (r *registry) live(name string) (bool, string, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st, ok := r.agents[name]
	if !ok {
		return false, "agent " + name + " is not registered (or was revoked)", closedChan()
	}
	if !st.online {
		return false, r.status(name, st).Reason, st.gone
	}
	return true, "", st.gone
}

// place fills the coordinates (and city, country, ASN when missing) of a
// heartbeat without them from the geo data for the agent's address, as the
// server's own location is placed from its public address.
func (r *registry) place(hb *Heartbeat) {
	if (hb.Latitude != nil && hb.Longitude != nil) || hb.Address == "" || r.cfg.Geo == nil {
		return
	}
	addr, err := netip.ParseAddr(hb.Address)
	db := r.cfg.Geo()
	if err != nil || db == nil {
		return
	}
	info := db.Lookup(addr)
	if !info.FillPlace(&hb.Latitude, &hb.Longitude, &hb.City, &hb.Country) {
		return
	}
	if hb.ASN == 0 {
		hb.ASN = info.ASN
	}
}
