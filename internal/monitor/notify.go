package monitor

import (
	"time"

	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/store"
)

// Run is one recorded run as Config.Notify sees it.
type Run struct {
	Check    *check.Check
	ID       string
	Location string
	At       time.Time
	// State is the check's state after the run.
	State State
	// Transition is the state change the run caused, nil when none.
	Transition *Event
	// Last is the run as the monitor shows it (failed conditions, phase).
	Last *Result
}

// notify asks Config.Notify for the notifications of a run.
func (m *Monitor) notify(c *check.Check, id string, st State, ev *Event, last *Result) []store.Notification {
	if m.cfg.Notify == nil {
		return nil
	}
	return m.cfg.Notify(Run{Check: c, ID: id, Location: m.cfg.Location, At: last.At, State: st, Transition: ev, Last: last})
}
