package monitor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/certtest"
)

func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

func checkIDs(m *Monitor) string {
	var ids []string
	for _, c := range m.Checks() {
		ids = append(ids, c.ID)
	}
	return strings.Join(ids, " ")
}

func TestReloadKeepsTheOldChecksOnABadEdit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yml")
	writeSuite(t, a, "checks:\n  - {name: alpha, kind: tcp, target: 127.0.0.1:1, interval: 5s}\n")
	writeSuite(t, b, "checks:\n  - {name: beta, kind: tcp, target: 127.0.0.1:2}\n")
	m := New(Config{Clock: NewFakeClock(t0)})
	l := &Loader{Monitor: m, Path: dir}
	if err := l.Load(); err != nil {
		t.Fatal(err)
	}
	if got := checkIDs(m); got != "alpha beta" {
		t.Fatalf("checks %q; want alpha beta", got)
	}
	if v, _ := m.Check("alpha"); v.IntervalSeconds != 5 || v.FailureThreshold != 3 || v.SuccessThreshold != 2 {
		t.Errorf("alpha = %+v: want interval 5 s and the default thresholds", v)
	}

	writeSuite(t, a, "checks:\n  - {name: alpha, kind: tcp, target: 127.0.0.1:1, interval: 500ms}\n")
	errs := l.Reload()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "a.yaml:2: interval 500ms is too short") {
		t.Fatalf("reload errors %v; want a.yaml's line and what is wrong", errs)
	}
	if got := checkIDs(m); got != "alpha beta" {
		t.Errorf("after a bad edit: checks %q; want the old ones kept", got)
	}
	if v, _ := m.Check("alpha"); v.IntervalSeconds != 5 {
		t.Errorf("after a bad edit alpha runs every %gs; want the old 5 s", v.IntervalSeconds)
	}
	if fe := m.ConfigErrors(); len(fe) != 1 || fe[0].File != a {
		t.Errorf("config errors %+v; want a.yaml", fe)
	}
	if l.Reload(); len(m.ConfigErrors()) != 1 {
		t.Errorf("the error is forgotten on the next look: %+v", m.ConfigErrors())
	}

	writeSuite(t, a, "checks:\n  - {name: alpha, kind: tcp, target: 127.0.0.1:1, interval: 7s}\n  - {name: gamma, kind: tcp, target: 127.0.0.1:3}\n")
	if errs := l.Reload(); len(errs) != 0 {
		t.Fatal(errs)
	}
	if v, _ := m.Check("alpha"); v.IntervalSeconds != 7 || checkIDs(m) != "alpha beta gamma" || len(m.ConfigErrors()) != 0 {
		t.Errorf("after the fix: %q, alpha every %gs, errors %v", checkIDs(m), v.IntervalSeconds, m.ConfigErrors())
	}

	// A duplicate id in another file is refused; that file keeps nothing new.
	writeSuite(t, b, "checks:\n  - {name: Alpha, kind: tcp, target: 127.0.0.1:2}\n")
	if errs := l.Reload(); len(errs) != 1 || !strings.Contains(errs[0].Error(), `has the id "alpha"`) {
		t.Errorf("duplicate id: errors %v", errs)
	}
	if got := checkIDs(m); got != "alpha beta gamma" {
		t.Errorf("after a duplicate: %q", got)
	}
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	if l.Reload(); checkIDs(m) != "alpha gamma" {
		t.Errorf("after removing b.yml: %q; want alpha gamma", checkIDs(m))
	}
	m.sched.mu.Lock()
	n := len(m.sched.queue)
	m.sched.mu.Unlock()
	if n != 2 {
		t.Errorf("%d checks scheduled; want 2", n)
	}
}

func TestMaintenanceWindowFromTheSuite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeSuite(t, filepath.Join(dir, "s.yaml"), `defaults:
  maintenance:
    - {days: [tue], start: "23:30", duration: 1h}
    - {from: "2026-12-24T00:00:00Z", until: "2026-12-25T00:00:00Z"}
checks:
  - {name: x, kind: tcp, target: 127.0.0.1:1}
`)
	m := New(Config{Clock: NewFakeClock(t0)})
	if err := (&Loader{Monitor: m, Path: dir}).Load(); err != nil {
		t.Fatal(err)
	}
	c, _ := m.Suite("x")
	for at, want := range map[string]bool{
		"2026-12-01T23:45:00Z": true,  // a Tuesday
		"2026-12-02T00:15:00Z": true,  // past midnight, still in Tuesday's window
		"2026-12-02T00:30:00Z": false, // ended
		"2026-12-02T23:45:00Z": false, // Wednesday
		"2026-12-24T12:00:00Z": true,
	} {
		tm, _ := time.Parse(time.RFC3339, at)
		if got := c.Watch.InMaintenance(tm); got != want {
			t.Errorf("in maintenance at %s = %v, want %v", at, got, want)
		}
	}
}

func TestReloadWhenACAFileChanges(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	caDir := t.TempDir() // outside the watched directory
	ca := filepath.Join(caDir, "ca.pem")
	pemA, pemB := string(certtest.NewCA(t, "a").PEM()), string(certtest.NewCA(t, "b").PEM())
	writeSuite(t, ca, pemA)
	writeSuite(t, filepath.Join(dir, "s.yaml"), "defaults: {ca: "+ca+"}\nchecks:\n  - {name: x, kind: tls, target: 127.0.0.1:1}\n")
	m := New(Config{Clock: NewFakeClock(t0)})
	l := &Loader{Monitor: m, Path: dir}
	if err := l.Load(); err != nil {
		t.Fatal(err)
	}
	c, _ := m.Suite("x")
	if !strings.Contains(string(c.Options), jsonText(pemA)) {
		t.Fatalf("options %s; want the CA read in", c.Options)
	}
	writeSuite(t, ca, pemB)
	if errs := l.Reload(); len(errs) != 0 {
		t.Fatal(errs)
	}
	if c, _ = m.Suite("x"); !strings.Contains(string(c.Options), jsonText(pemB)) {
		t.Errorf("after the CA file changed: options %s; want the new CA", c.Options)
	}
}
