package check

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Channel is a notification channel of a suite (channels:), referenced by
// name from checks, groups and default_alerts. The alert package turns it
// into a sender and checks its type and options.
type Channel struct {
	Name, Type string
	// Options are every other key: url, secret, routing_key ... Lists are
	// joined with ",". ${NAME} is already replaced; a value "file:PATH" is
	// the content of PATH (trailing white space trimmed).
	Options map[string]string
	// Lines are the line of each key, for errors.
	Lines map[string]int
	File  string
	Line  int
}

// Errorf is an error at the line of key (the channel's line when the key
// is absent), in the suite's file:line form.
func (c *Channel) Errorf(key, format string, args ...any) error {
	line := c.Line
	if l, ok := c.Lines[key]; ok {
		line = l
	}
	return fmt.Errorf("%w: %s:%d: channel %q: %s", ErrSuite, c.File, line, c.Name, fmt.Sprintf(format, args...))
}

// Alerts says where and when a check's state changes are sent.
type Alerts struct {
	// Channels are the channel names: the check's alerts, else its group's,
	// else the suite's default_alerts.
	Channels []string
	// SendOnResolved sends the recovery too (default true).
	SendOnResolved bool
	// OnDegraded sends when the check becomes degraded (default false).
	OnDegraded bool
	// RepeatInterval sends a reminder this often while the check is down;
	// 0 sends none.
	RepeatInterval time.Duration
	// Severity is passed to channels that have one (PagerDuty, Opsgenie):
	// critical (default), error, warning or info.
	Severity string
}

// alertKeys are the keys a check or the suite's defaults may set for alerts.
var alertKeys = []string{"alerts", "send_on_resolved", "alert_on_degraded", "repeat_interval", "severity"}

// Severities a check may have.
var Severities = []string{"critical", "error", "warning", "info"}

// alertSettings are alert keys as read, unset ones nil, so a check's own
// win over its group's and the defaults'.
type alertSettings struct {
	channels []string
	hasList  bool
	resolved *bool
	degraded *bool
	repeat   *time.Duration
	severity string
	listLine int
}

// channels reads the suite's channels: a list of {name, type, ...}.
func (l *loader) channels(v *yaml.Node) ([]*Channel, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, l.errAt(v.Line, "channels must be a list such as [{name: ops, type: slack, url: \"${SLACK_WEBHOOK_URL}\"}]")
	}
	var out []*Channel
	seen := map[string]int{}
	for _, n := range v.Content {
		if n.Kind != yaml.MappingNode {
			return nil, l.errAt(n.Line, "a channel must be a mapping with name, type and its options")
		}
		c := &Channel{Options: map[string]string{}, Lines: map[string]int{}, File: l.file, Line: n.Line}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if _, dup := c.Lines[k.Value]; dup {
				return nil, l.errAt(k.Line, "duplicate key %q in a channel", k.Value)
			}
			c.Lines[k.Value] = k.Line
			s, err := l.channelValue(k.Value, val)
			if err != nil {
				return nil, err
			}
			switch k.Value {
			case "name":
				c.Name = s
			case "type":
				c.Type = s
			default:
				c.Options[k.Value] = s
			}
		}
		if strings.TrimSpace(c.Name) == "" || strings.TrimSpace(c.Type) == "" {
			return nil, l.errAt(n.Line, "a channel needs a name and a type")
		}
		if prev, dup := seen[c.Name]; dup {
			return nil, l.errAt(n.Line, "channel name %q is already used on line %d", c.Name, prev)
		}
		seen[c.Name] = n.Line
		out = append(out, c)
	}
	return out, nil
}

// channelValue reads a channel option: a scalar (a file: reference read)
// or a list of scalars joined with ",".
func (l *loader) channelValue(key string, v *yaml.Node) (string, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		path, ok := strings.CutPrefix(v.Value, "file:")
		if !ok || key == "name" || key == "type" {
			return v.Value, nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", l.errAt(v.Line, "channel option %s: reading %s: %v", key, path, err)
		}
		if !slices.Contains(l.files, path) {
			l.files = append(l.files, path)
		}
		return strings.TrimRight(string(b), " \t\r\n"), nil
	case yaml.SequenceNode:
		var parts []string
		for _, e := range v.Content {
			if e.Kind != yaml.ScalarNode {
				return "", l.errAt(e.Line, "channel option %s: a list of plain values only", key)
			}
			parts = append(parts, e.Value)
		}
		return strings.Join(parts, ","), nil
	}
	return "", l.errAt(v.Line, "channel option %s must be a plain value or a list of them", key)
}

// alertSettings reads the alert keys of a check, group or the defaults.
func (l *loader) alertSettings(f map[string]*yaml.Node) (alertSettings, error) {
	var a alertSettings
	if v := f["alerts"]; v != nil {
		if v.Kind != yaml.SequenceNode {
			return a, l.errAt(v.Line, "alerts must be a list of channel names such as [ops, hooks]")
		}
		a.hasList, a.listLine = true, v.Line
		for _, n := range v.Content {
			if n.Kind != yaml.ScalarNode {
				return a, l.errAt(n.Line, "alerts must be a list of channel names")
			}
			if _, ok := l.chans[n.Value]; !ok {
				return a, l.errAt(n.Line, "unknown channel %q; channels of this suite: %s", n.Value, l.channelNames())
			}
			a.channels = append(a.channels, n.Value)
		}
	}
	for key, dst := range map[string]**bool{"send_on_resolved": &a.resolved, "alert_on_degraded": &a.degraded} {
		if v := f[key]; v != nil {
			var b bool
			if err := v.Decode(&b); err != nil {
				return a, l.errAt(v.Line, "%s must be true or false, not %q", key, v.Value)
			}
			*dst = &b
		}
	}
	if v := f["repeat_interval"]; v != nil {
		d, err := l.duration(v, "repeat_interval")
		if err != nil {
			return a, err
		}
		if d < time.Minute {
			return a, l.errAt(v.Line, "repeat_interval %s is too short: the least is 1m", v.Value)
		}
		a.repeat = &d
	}
	if v := f["severity"]; v != nil {
		if !slices.Contains(Severities, v.Value) {
			return a, l.errAt(v.Line, "bad severity %q; expected one of: %s", v.Value, strings.Join(Severities, ", "))
		}
		a.severity = v.Value
	}
	return a, nil
}

func (l *loader) channelNames() string {
	if len(l.chans) == 0 {
		return "none (define them under channels:)"
	}
	var names []string
	for n := range l.chans {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// over returns a with the unset settings taken from base.
func (a alertSettings) over(base alertSettings) alertSettings {
	if !a.hasList {
		a.channels, a.hasList = base.channels, base.hasList
	}
	if a.resolved == nil {
		a.resolved = base.resolved
	}
	if a.degraded == nil {
		a.degraded = base.degraded
	}
	if a.repeat == nil {
		a.repeat = base.repeat
	}
	if a.severity == "" {
		a.severity = base.severity
	}
	return a
}

// resolve applies the defaults: send_on_resolved true, severity critical.
func (a alertSettings) resolve() Alerts {
	out := Alerts{Channels: a.channels, SendOnResolved: true, Severity: "critical"}
	if a.resolved != nil {
		out.SendOnResolved = *a.resolved
	}
	if a.degraded != nil {
		out.OnDegraded = *a.degraded
	}
	if a.repeat != nil {
		out.RepeatInterval = *a.repeat
	}
	if a.severity != "" {
		out.Severity = a.severity
	}
	return out
}

// groups reads groups: {NAME: {alerts: [...], send_on_resolved ...}}.
func (l *loader) groups(v *yaml.Node) (map[string]alertSettings, error) {
	if v.Kind != yaml.MappingNode {
		return nil, l.errAt(v.Line, "groups must be a mapping of group name to its alerts, such as {dns: {alerts: [ops]}}")
	}
	out := map[string]alertSettings{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		f, err := l.fields(val, fmt.Sprintf("group %q", k.Value), alertKeys)
		if err != nil {
			return nil, err
		}
		if out[k.Value], err = l.alertSettings(f); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// defaultAlerts reads the suite's default_alerts list.
func (l *loader) defaultAlerts(v *yaml.Node) (alertSettings, error) {
	return l.alertSettings(map[string]*yaml.Node{"alerts": v})
}
