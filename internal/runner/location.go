package runner

import (
	"context"
	"time"

	"github.com/dnsscience/dnsscience/internal/measure"
)

// Location is a place measurements run from.
type Location struct {
	ID       string `json:"id" yaml:"id"`
	Name     string `json:"name" yaml:"name"`
	Provider string `json:"provider" yaml:"provider"`
	City     string `json:"city,omitempty" yaml:"city"`
	Country  string `json:"country,omitempty" yaml:"country"`
	// Latitude and Longitude are nil when unknown (never 0,0 by default).
	Latitude  *float64 `json:"latitude" yaml:"latitude"`
	Longitude *float64 `json:"longitude" yaml:"longitude"`
	Endpoint  string   `json:"endpoint,omitempty" yaml:"endpoint"`
	// ASN is the network the location measures from; 0 when unknown.
	ASN uint32 `json:"asn,omitempty" yaml:"asn"`
	// Version is the software version an agent announced.
	Version string `json:"version,omitempty" yaml:"-"`
}

// Located reports whether the location's coordinates are known.
func (l Location) Located() bool { return l.Latitude != nil && l.Longitude != nil }

// Dispatcher runs prepared measurements at one location: here, or on an
// agent.
type Dispatcher interface {
	// Dispatch runs the plan and returns its result; emit streams its events.
	Dispatch(ctx context.Context, p *measure.Plan, emit measure.Emit) (any, error)
	// Online reports whether the location can run measurements now, and
	// why not.
	Online() (bool, string)
}

// Local runs measurements in this process.
type Local struct{}

// Dispatch runs the plan here.
func (Local) Dispatch(ctx context.Context, p *measure.Plan, emit measure.Emit) (any, error) {
	return p.Run(ctx, emit)
}

// Online is always true for this process.
func (Local) Online() (bool, string) { return true, "" }

// LocationStatus is a location with its state.
type LocationStatus struct {
	Location
	Status string `json:"status"`           // online or offline
	Reason string `json:"reason,omitempty"` // why offline
	// LastSeen is an agent's last heartbeat; OfflineSince is set while it
	// is offline (zero: never seen).
	LastSeen     time.Time `json:"last_seen,omitzero"`
	OfflineSince time.Time `json:"offline_since,omitzero"`
}

// Remote is a changing set of locations served elsewhere (agents), asked
// on every request.
type Remote interface {
	// Locations lists the remote locations with their state.
	Locations() []LocationStatus
	// Dispatcher runs measurements at a remote location; false when the
	// id is not one.
	Dispatcher(id string) (Dispatcher, bool)
}
