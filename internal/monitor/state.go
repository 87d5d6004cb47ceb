package monitor

import (
	"fmt"
	"time"
)

// Statuses of a check at a location.
const (
	StatusPending     = "pending"
	StatusUp          = "up"
	StatusDegraded    = "degraded"
	StatusDown        = "down"
	StatusMaintenance = "maintenance"
)

// Outcomes of one run.
const (
	OutcomeOK   = "ok"
	OutcomeWarn = "warn" // passed, but a warning condition did not hold
	OutcomeFail = "fail"
)

// State is a check's state at one location. Health is what the thresholds
// say (pending, up, degraded, down); Status is what is shown: Health, or
// maintenance during a maintenance window.
type State struct {
	Status, Health string
	Fails, OKs     int // failing and passing runs in a row
	Since          time.Time
}

// Thresholds decide when a check changes health.
type Thresholds struct {
	Failure, Success int
}

// Transition is a change of the shown status.
type Transition struct {
	From, To, Reason string
}

// Next is the state after a run with outcome at t. A new check is pending
// until Failure failing runs in a row make it down or Success passing runs
// in a row make it up (degraded when the last run warned). An up or
// degraded check goes down after Failure failing runs in a row (below that
// it stays as it is); a down one comes back after Success passing runs in
// a row. During maintenance the runs count the same, but the check shows
// maintenance.
func (s State) Next(outcome string, t time.Time, th Thresholds, maintenance bool) (State, *Transition) {
	n := s
	if n.Health == "" {
		n.Health = StatusPending
	}
	reason := ""
	switch outcome {
	case OutcomeFail:
		n.Fails, n.OKs = n.Fails+1, 0
		if n.Health != StatusDown && n.Fails >= th.Failure {
			n.Health, reason = StatusDown, fmt.Sprintf("%d failing runs in a row", n.Fails)
		}
	default:
		n.Fails, n.OKs = 0, n.OKs+1
		healthy := StatusUp
		if outcome == OutcomeWarn {
			healthy = StatusDegraded
		}
		switch {
		case n.Health == StatusUp || n.Health == StatusDegraded:
			if n.Health != healthy {
				n.Health, reason = healthy, map[string]string{StatusUp: "warnings cleared", StatusDegraded: "a warning condition failed"}[healthy]
			}
		case n.OKs >= th.Success:
			n.Health, reason = healthy, fmt.Sprintf("%d passing runs in a row", n.OKs)
		}
	}
	n.Status = n.Health
	if maintenance {
		n.Status = StatusMaintenance
		if s.Status != StatusMaintenance {
			reason = "maintenance window began"
		}
	} else if s.Status == StatusMaintenance && reason == "" {
		reason = "maintenance window ended"
	}
	if n.Status == s.Status {
		return n, nil
	}
	n.Since = t
	from := s.Status
	if from == "" {
		from = StatusPending
		if n.Status == StatusPending {
			return n, nil
		}
	}
	return n, &Transition{From: from, To: n.Status, Reason: reason}
}
