package check

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAlertsConfig(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := `
channels:
  - {name: ops, type: slack, url: "${SLACK_URL}"}
  - {name: hooks, type: webhook, url: "http://127.0.0.1:9/h", secret: "file:` + secretFile + `"}
  - {name: mail, type: email, to: [a@example.test, b@example.test]}
default_alerts: [mail]
groups:
  dns: {alerts: [hooks], repeat_interval: 30m}
defaults:
  send_on_resolved: false
checks:
  - {name: own, kind: tcp, target: "127.0.0.1:1", alerts: [ops, hooks], alert_on_degraded: true, send_on_resolved: true, severity: warning}
  - {name: grouped, kind: tcp, target: "127.0.0.1:2", group: dns}
  - {name: plain, kind: tcp, target: "127.0.0.1:3"}
`
	s, err := Parse("a.yaml", []byte(src), env(map[string]string{"SLACK_URL": "https://hooks.slack.test/x"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Channels) != 3 || s.Channels[0].Options["url"] != "https://hooks.slack.test/x" || s.Channels[1].Options["secret"] != "from-file" ||
		s.Channels[2].Options["to"] != "a@example.test,b@example.test" || s.Channels[1].Lines["secret"] != 4 {
		t.Fatalf("channels %+v %+v %+v", s.Channels[0], s.Channels[1], s.Channels[2])
	}
	if len(s.Files) != 1 || s.Files[0] != secretFile {
		t.Fatalf("files %v: a secret file is watched for reloads", s.Files)
	}
	own, grouped, plain := s.Checks[0].Alerts, s.Checks[1].Alerts, s.Checks[2].Alerts
	if strings.Join(own.Channels, ",") != "ops,hooks" || !own.OnDegraded || !own.SendOnResolved || own.Severity != "warning" {
		t.Fatalf("own %+v", own)
	}
	if strings.Join(grouped.Channels, ",") != "hooks" || grouped.RepeatInterval != 30*time.Minute || grouped.SendOnResolved || grouped.Severity != "critical" {
		t.Fatalf("grouped %+v", grouped)
	}
	if strings.Join(plain.Channels, ",") != "mail" || plain.OnDegraded || plain.SendOnResolved {
		t.Fatalf("plain %+v", plain)
	}

	// send_on_resolved is on unless set off.
	s, err = Parse("b.yaml", []byte("channels: [{name: ops, type: slack, url: x}]\nchecks:\n  - {name: a, kind: tcp, target: \"127.0.0.1:1\", alerts: [ops]}\n"), nil)
	if err != nil || !s.Checks[0].Alerts.SendOnResolved {
		t.Fatalf("default send_on_resolved: %v %+v", err, s)
	}
}

func TestAlertsConfigErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"checks:\n  - {name: a, kind: tcp, target: \"127.0.0.1:1\", alerts: [nope]}\n", `c.yaml:2: unknown channel "nope"`},
		{"channels: [{name: ops, type: slack}]\ndefault_alerts: [ops, nah]\nchecks:\n  - {name: a, kind: tcp, target: \"127.0.0.1:1\"}\n", `c.yaml:2: unknown channel "nah"; channels of this suite: ops`},
		{"channels: [{name: ops, type: slack}]\ngroups: {g: {alerts: [x]}}\nchecks:\n  - {name: a, kind: tcp, target: \"127.0.0.1:1\"}\n", `c.yaml:2: unknown channel "x"`},
		{"channels:\n  - {name: ops, type: slack}\n  - {name: ops, type: webhook}\nchecks:\n  - {name: a, kind: tcp, target: \"127.0.0.1:1\"}\n", `c.yaml:3: channel name "ops" is already used on line 2`},
		{"channels:\n  - {type: slack}\nchecks:\n  - {name: a, kind: tcp, target: \"127.0.0.1:1\"}\n", `c.yaml:2: a channel needs a name and a type`},
		{"channels:\n  - {name: a, type: slack, secret: \"file:/nonexistent/x\"}\nchecks:\n  - {name: a, kind: tcp, target: \"127.0.0.1:1\"}\n", `c.yaml:2: channel option secret: reading /nonexistent/x`},
		{"checks:\n  - {name: a, kind: tcp, target: \"127.0.0.1:1\", repeat_interval: 5s}\n", `c.yaml:2: repeat_interval 5s is too short`},
		{"checks:\n  - {name: a, kind: tcp, target: \"127.0.0.1:1\", severity: huge}\n", `c.yaml:2: bad severity "huge"`},
		{"checks:\n  - {name: a, kind: tcp, target: \"127.0.0.1:1\", send_on_resolved: maybe}\n", `c.yaml:2: send_on_resolved must be true or false`},
	} {
		_, err := Parse("c.yaml", []byte(tc.src), env(nil))
		if !errors.Is(err, ErrSuite) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.src, err, tc.want)
		}
	}
}
