package monitor

import (
	"strings"
	"testing"
	"time"
)

func TestStateMachine(t *testing.T) {
	t.Parallel()
	th := Thresholds{Failure: 3, Success: 2}
	for _, tc := range []struct {
		name     string
		runs     string // o ok, w warn, f fail, M/W/F the same in a maintenance window
		statuses string // the shown status after each run: P pending, U up, G degraded, D down, M maintenance
		changes  []string
	}{
		{"new check comes up after two passes", "oo", "PU", []string{"pending>up"}},
		{"new check goes down after three failures", "fff", "PPD", []string{"pending>down"}},
		{"below the failure threshold it stays up", "ooffoff", "PUUUUUU", []string{"pending>up"}},
		{"down after three, up after two", "ooffffoo", "PUUUDDDU", []string{"pending>up", "up>down", "down>up"}},
		{"one pass between failures is not enough", "fffofoo", "PPDDDDU", []string{"pending>down", "down>up"}},
		{"a warning makes it degraded, then up again", "oowwo", "PUGGU", []string{"pending>up", "up>degraded", "degraded>up"}},
		{"coming back with a warning is degraded", "fffow", "PPDDG", []string{"pending>down", "down>degraded"}},
		{"maintenance hides failures", "ooFFFFoo", "PUMMMMDU", []string{"pending>up", "up>maintenance", "maintenance>down", "down>up"}},
		{"maintenance ends up", "ooOOo", "PUMMU", []string{"pending>up", "up>maintenance", "maintenance>up"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s State
			var got, changes []string
			at := t0
			for _, r := range tc.runs {
				outcome := map[rune]string{'o': OutcomeOK, 'w': OutcomeWarn, 'f': OutcomeFail}[toLower(r)]
				var tr *Transition
				at = at.Add(time.Second)
				s, tr = s.Next(outcome, at, th, r != toLower(r))
				got = append(got, map[string]string{StatusPending: "P", StatusUp: "U", StatusDegraded: "G", StatusDown: "D", StatusMaintenance: "M"}[s.Status])
				if tr != nil {
					changes = append(changes, tr.From+">"+tr.To)
					if tr.Reason == "" {
						t.Errorf("transition %s>%s has no reason", tr.From, tr.To)
					}
					if !s.Since.Equal(at) {
						t.Errorf("since = %s after a change at %s", s.Since, at)
					}
				}
			}
			if g := strings.Join(got, ""); g != tc.statuses {
				t.Errorf("runs %s: statuses %s, want %s", tc.runs, g, tc.statuses)
			}
			if strings.Join(changes, " ") != strings.Join(tc.changes, " ") {
				t.Errorf("runs %s: changes %v, want %v", tc.runs, changes, tc.changes)
			}
		})
	}
}

func toLower(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}
