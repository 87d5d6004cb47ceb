package check

import (
	"strings"
	"testing"
	"time"
)

func TestWatchKeys(t *testing.T) {
	t.Parallel()
	s, err := Parse("w.yaml", []byte(`defaults:
  interval: 30s
  group: edge
  labels: {team: platform, tier: "1"}
  maintenance: [{days: [sun], start: "02:00", duration: 1h}]
checks:
  - {name: a, kind: tcp, target: 127.0.0.1:1}
  - name: b
    kind: http
    target: http://127.0.0.1:1/
    interval: 5s
    failure_threshold: 5
    success_threshold: 1
    public: true
    labels: {tier: "2"}
    warning: [duration < 300ms]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := s.Checks[0].Watch, s.Checks[1].Watch
	if a.Interval != 30*time.Second || a.FailureThreshold != 3 || a.SuccessThreshold != 2 || a.Group != "edge" || a.Public || len(a.Maintenance) != 1 {
		t.Errorf("a = %+v: want the suite's defaults and the default thresholds", a)
	}
	if b.Interval != 5*time.Second || b.FailureThreshold != 5 || b.SuccessThreshold != 1 || !b.Public || len(b.Warnings) != 1 ||
		b.Labels["team"] != "platform" || b.Labels["tier"] != "2" {
		t.Errorf("b = %+v: want its own values, labels merged over the defaults'", b)
	}
	if s.Checks[1].ID() != "b" || Slug("Web  API (prod)!") != "web-api-prod" {
		t.Errorf("ids: %q, %q", s.Checks[1].ID(), Slug("Web  API (prod)!"))
	}
}

func TestWatchKeyErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ check, want string }{
		{`interval: 500ms`, "w.yaml:3: interval 500ms is too short: the least is 1s"},
		{`interval: soon`, `w.yaml:3: bad interval "soon": want a positive duration`},
		{`failure_threshold: 0`, `w.yaml:3: failure_threshold must be a whole number from 1 to 100, not "0"`},
		{`labels: {check: x}`, `w.yaml:3: label "check" is the monitor's own`},
		{`labels: {"a-b": x}`, `w.yaml:3: bad label name "a-b"`},
		{`public: maybe`, `w.yaml:3: public must be true or false, not "maybe"`},
		{`warning: [nonsense.var > 1]`, `w.yaml:3: check "a": warning condition "nonsense.var > 1"`},
		{`maintenance: [{start: "25:00", duration: 1h}]`, `w.yaml:3: bad start "25:00": want HH:MM in UTC`},
		{`maintenance: [{from: "2026-12-02T00:00:00Z", until: "2026-12-01T00:00:00Z"}]`, "w.yaml:3: maintenance window ends"},
		{`maintenance: [{days: [someday], start: "02:00", duration: 1h}]`, `w.yaml:3: bad day "someday"`},
		{`maintenance: [{start: "02:00"}]`, "a maintenance window needs from and until, or start (HH:MM, UTC) and duration"},
	} {
		_, err := Parse("w.yaml", []byte("checks:\n  - name: a\n    "+tc.check+"\n    kind: tcp\n    target: 127.0.0.1:1\n"), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.check, err, tc.want)
		}
	}
	_, err := Parse("w.yaml", []byte("defaults: {warning: [ok]}\nchecks:\n  - {name: a, kind: tcp, target: 127.0.0.1:1}\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "warning conditions belong to a check") {
		t.Errorf("warning in defaults: %v", err)
	}
}
