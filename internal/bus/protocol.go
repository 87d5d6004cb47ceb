package bus

import (
	"encoding/json"
	"time"
)

// Subjects. Every agent subject carries the agent's name as its second
// token, and an agent's credential allows only its own: it receives work
// and cancellations on agent.NAME.work and agent.NAME.cancel, replies to
// the work requests it received, and publishes heartbeats on agent.NAME.hb
// and events on agent.NAME.ev.RUN. A dispatcher listens only to the run it
// sent to that agent, so no agent can publish into another's measurement.
const (
	subjectPrefix = "agent."
	// revokeSubject tells every server on the bus to disconnect an agent.
	revokeSubject = "dnsscience.revoke"
)

// WorkSubject is where an agent receives measurements.
func WorkSubject(agent string) string { return subjectPrefix + agent + ".work" }

// CancelSubject is where an agent is told to stop a run.
func CancelSubject(agent string) string { return subjectPrefix + agent + ".cancel" }

// HeartbeatSubject is where an agent announces itself.
func HeartbeatSubject(agent string) string { return subjectPrefix + agent + ".hb" }

// EventSubject is where an agent streams one run's events.
func EventSubject(agent, run string) string { return subjectPrefix + agent + ".ev." + run }

// Work is one measurement sent to an agent: what the server validated,
// to be prepared again by the agent's own registry.
type Work struct {
	Run     string          `json:"run"`
	Kind    string          `json:"kind"`
	Target  string          `json:"target"`
	Options json.RawMessage `json:"options,omitempty"`
	// TimeoutMS bounds the run at the agent.
	TimeoutMS int64 `json:"timeout_ms"`
}

// Accept is an agent's reply to Work: Error says why it refused it.
type Accept struct {
	Error string `json:"error,omitempty"`
}

// Event is one event of a run; the last one is of type "result" (Data is
// the result) or "error" (Error says why).
type Event struct {
	Seq   int             `json:"seq"`
	Type  string          `json:"type"`
	Data  json.RawMessage `json:"data,omitempty"`
	Error string          `json:"error,omitempty"`
}

// Heartbeat is what an agent announces, every interval.
type Heartbeat struct {
	Name      string   `json:"name"`
	Display   string   `json:"display,omitempty"`
	City      string   `json:"city,omitempty"`
	Country   string   `json:"country,omitempty"`
	Latitude  *float64 `json:"latitude,omitempty"`
	Longitude *float64 `json:"longitude,omitempty"`
	ASN       uint32   `json:"asn,omitempty"`
	Version   string   `json:"version,omitempty"`
	// IntervalMS is the agent's heartbeat interval; it is offline after
	// three are missed.
	IntervalMS int64 `json:"interval_ms"`
	// Running counts the measurements it runs now.
	Running int `json:"running"`
	// Address is the agent's public address (configured, or the one the
	// server saw it connect from): without coordinates, the server places
	// the agent from its geo data for it.
	Address string `json:"address,omitempty"`
}

// AddressHeader tells an agent, in the answer to its WebSocket request,
// the address the server sees it connect from.
const AddressHeader = "X-Dnsscience-Agent-Address"

// Interval is the heartbeat interval the agent announced (default 5 s).
func (h *Heartbeat) Interval() time.Duration {
	if h.IntervalMS <= 0 {
		return 5 * time.Second
	}
	return time.Duration(h.IntervalMS) * time.Millisecond
}
