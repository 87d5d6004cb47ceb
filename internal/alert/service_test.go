package alert

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/monitor"
)

// TestChannelNamesAreSharedAcrossFiles: a suite file naming a channel that
// another file of the checks directory defines is rejected, naming that
// file (never a silent, random replacement); when the other file is gone,
// its channels go with it and the rejected file loads.
func TestChannelNamesAreSharedAcrossFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	write := func(path, text string) {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(a, "channels:\n  - {name: ops, type: webhook, url: 'http://127.0.0.1:9/a'}\nchecks:\n  - {name: alpha, kind: tcp, target: 127.0.0.1:1}\n")
	write(b, "channels:\n  - {name: ops, type: webhook, url: 'http://127.0.0.1:9/b'}\nchecks:\n  - {name: beta, kind: tcp, target: 127.0.0.1:2, alerts: [ops]}\n")
	svc := NewService(nil, &Env{}, nil)
	m := monitor.New(monitor.Config{})
	l := &monitor.Loader{Monitor: m, Path: dir, OnSuite: svc.Suite, OnGone: svc.Remove}
	err := l.Load()
	if err == nil || !strings.Contains(err.Error(), `b.yaml:2: channel "ops": channel "ops" is already defined in `+a) {
		t.Fatalf("load: %v; want b.yaml refused, naming a.yaml", err)
	}
	if _, err := m.Check("beta"); err == nil {
		t.Error("beta is watched although its file was refused")
	}
	if s := svc.Worker.sender("ops"); s == nil {
		t.Fatal("a.yaml's channel ops is not there")
	}
	if err := os.Remove(a); err != nil {
		t.Fatal(err)
	}
	if errs := l.Reload(); len(errs) != 0 {
		t.Fatalf("after removing a.yaml: %v", errs)
	}
	if _, err := m.Check("beta"); err != nil {
		t.Errorf("beta not watched once a.yaml is gone: %v", err)
	}
	if s, ok := svc.Worker.sender("ops").(*webhook); !ok || !strings.HasSuffix(s.url, "/b") {
		t.Errorf("channel ops = %#v; want b.yaml's webhook", svc.Worker.sender("ops"))
	}
}
