package check

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dnsscience/dnsscience/internal/measure"
)

// Watch is how the monitor runs a check again and again: every key may be
// set per check or in the suite's defaults (the check's own wins; labels
// are merged). `dnsscience check` (one run) ignores it.
type Watch struct {
	// Interval between runs; 0 means 1m, the least is 1s.
	Interval time.Duration
	// FailureThreshold failing runs in a row make a check down; 0 means 3.
	FailureThreshold int
	// SuccessThreshold passing runs in a row bring it back up; 0 means 2.
	SuccessThreshold int
	// Warnings are conditions that make a passing check degraded (not down)
	// when one does not hold.
	Warnings []*Condition
	// Group names the check's group on the dashboard and status page.
	Group string
	// Labels are added to the check's metrics and shown on the dashboard.
	Labels map[string]string
	// Public checks are shown on the status page.
	Public bool
	// Maintenance windows: runs go on and are stored, but the check shows
	// "maintenance" and its failures do not make it down.
	Maintenance []Window
}

// Window is a maintenance window: From..Until once (both set), or every
// day in Days (all days when empty) from Start for Duration, in UTC.
type Window struct {
	From, Until time.Time
	Days        []time.Weekday
	Start       time.Duration // since midnight UTC
	Duration    time.Duration
}

// Contains reports whether t falls in the window.
func (w Window) Contains(t time.Time) bool {
	t = t.UTC()
	if !w.From.IsZero() {
		return !t.Before(w.From) && t.Before(w.Until)
	}
	// A daily window may have started the day before and run past midnight.
	for back := 0; back <= int(w.Duration/(24*time.Hour))+1; back++ {
		day := time.Date(t.Year(), t.Month(), t.Day()-back, 0, 0, 0, 0, time.UTC)
		if len(w.Days) > 0 && !slices.Contains(w.Days, day.Weekday()) {
			continue
		}
		start := day.Add(w.Start)
		if !t.Before(start) && t.Before(start.Add(w.Duration)) {
			return true
		}
	}
	return false
}

// InMaintenance reports whether t falls in one of the check's windows.
func (w *Watch) InMaintenance(t time.Time) bool {
	for _, m := range w.Maintenance {
		if m.Contains(t) {
			return true
		}
	}
	return false
}

// Defaults of Watch.
const (
	DefaultInterval         = time.Minute
	MinInterval             = time.Second
	DefaultFailureThreshold = 3
	DefaultSuccessThreshold = 2
)

// watchKeys are the keys a check or the suite's defaults may set for the monitor.
var watchKeys = []string{"interval", "failure_threshold", "success_threshold", "warning", "group", "labels", "public", "maintenance"}

// reservedLabels are the monitor's own metric labels.
var reservedLabels = []string{"check", "group", "kind", "location", "phase", "state", "window", "resolver", "instance", "job"}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// watch reads the monitor keys of a check (c != nil) or of the defaults
// (c == nil, base is the zero Watch) over base.
func (l *loader) watch(f map[string]*yaml.Node, base Watch, c *Check) (Watch, error) {
	w := base
	w.Labels = map[string]string{}
	for k, v := range base.Labels {
		w.Labels[k] = v
	}
	var err error
	if v := f["interval"]; v != nil {
		if w.Interval, err = l.duration(v, "interval"); err != nil {
			return w, err
		}
		if w.Interval < MinInterval {
			return w, l.errAt(v.Line, "interval %s is too short: the least is 1s", v.Value)
		}
	}
	for key, dst := range map[string]*int{"failure_threshold": &w.FailureThreshold, "success_threshold": &w.SuccessThreshold} {
		if v := f[key]; v != nil {
			if err := v.Decode(dst); err != nil || *dst < 1 || *dst > 100 {
				return w, l.errAt(v.Line, "%s must be a whole number from 1 to 100, not %q", key, v.Value)
			}
		}
	}
	if v := f["group"]; v != nil {
		w.Group = v.Value
	}
	if v := f["public"]; v != nil {
		if err := v.Decode(&w.Public); err != nil {
			return w, l.errAt(v.Line, "public must be true or false, not %q", v.Value)
		}
	}
	if v := f["labels"]; v != nil {
		if err := l.labels(v, w.Labels); err != nil {
			return w, err
		}
	}
	if v := f["maintenance"]; v != nil {
		if w.Maintenance, err = l.windows(v); err != nil {
			return w, err
		}
	}
	if v := f["warning"]; v != nil {
		if c == nil {
			return w, l.errAt(v.Line, "warning conditions belong to a check, not to the defaults")
		}
		if w.Warnings, err = l.condList(c, v, "warning", "warning condition"); err != nil {
			return w, err
		}
	}
	return w, nil
}

func (l *loader) labels(v *yaml.Node, into map[string]string) error {
	if v.Kind != yaml.MappingNode {
		return l.errAt(v.Line, "labels must be a mapping of name: value")
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		if !labelName.MatchString(k.Value) || strings.HasPrefix(k.Value, "__") {
			return l.errAt(k.Line, "bad label name %q: want letters, digits and _ (not starting with a digit or __)", k.Value)
		}
		if slices.Contains(reservedLabels, k.Value) {
			return l.errAt(k.Line, "label %q is the monitor's own; reserved: %s", k.Value, strings.Join(reservedLabels, ", "))
		}
		if val.Kind != yaml.ScalarNode {
			return l.errAt(val.Line, "label %s must have a plain value", k.Value)
		}
		into[k.Value] = val.Value
	}
	return nil
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// windows reads maintenance windows: {from: RFC 3339, until: RFC 3339} or
// {days: [sat, sun], start: "02:00", duration: 2h} (UTC; days optional).
func (l *loader) windows(v *yaml.Node) ([]Window, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, l.errAt(v.Line, "maintenance must be a list of windows")
	}
	var out []Window
	for _, n := range v.Content {
		f, err := l.fields(n, "a maintenance window", []string{"from", "until", "days", "start", "duration"})
		if err != nil {
			return nil, err
		}
		w, err := l.window(n, f)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

func (l *loader) window(n *yaml.Node, f map[string]*yaml.Node) (Window, error) {
	var w Window
	if f["from"] != nil || f["until"] != nil {
		if f["from"] == nil || f["until"] == nil || f["start"] != nil || f["days"] != nil || f["duration"] != nil {
			return w, l.errAt(n.Line, "a one-off maintenance window has from and until (RFC 3339) and nothing else")
		}
		var err error
		for key, dst := range map[string]*time.Time{"from": &w.From, "until": &w.Until} {
			if *dst, err = time.Parse(time.RFC3339, f[key].Value); err != nil {
				return w, l.errAt(f[key].Line, "bad %s %q: want an RFC 3339 time such as 2026-12-24T22:00:00Z", key, f[key].Value)
			}
		}
		if !w.Until.After(w.From) {
			return w, l.errAt(n.Line, "maintenance window ends (%s) before it starts (%s)", f["until"].Value, f["from"].Value)
		}
		return w, nil
	}
	if f["start"] == nil || f["duration"] == nil {
		return w, l.errAt(n.Line, "a maintenance window needs from and until, or start (HH:MM, UTC) and duration (days optional)")
	}
	hm, err := time.Parse("15:04", f["start"].Value)
	if err != nil {
		return w, l.errAt(f["start"].Line, "bad start %q: want HH:MM in UTC such as 02:30", f["start"].Value)
	}
	w.Start = time.Duration(hm.Hour())*time.Hour + time.Duration(hm.Minute())*time.Minute
	if w.Duration, err = l.duration(f["duration"], "duration"); err != nil {
		return w, err
	}
	if d := f["days"]; d != nil {
		if d.Kind != yaml.SequenceNode {
			return w, l.errAt(d.Line, "days must be a list such as [sat, sun]")
		}
		for _, dn := range d.Content {
			wd, ok := weekdays[strings.ToLower(dn.Value)]
			if !ok {
				return w, l.errAt(dn.Line, "bad day %q: want sun, mon, tue, wed, thu, fri or sat", dn.Value)
			}
			w.Days = append(w.Days, wd)
		}
	}
	return w, nil
}

// finish applies the defaults of zero values.
func (w *Watch) finish() {
	if w.Interval == 0 {
		w.Interval = DefaultInterval
	}
	if w.FailureThreshold == 0 {
		w.FailureThreshold = DefaultFailureThreshold
	}
	if w.SuccessThreshold == 0 {
		w.SuccessThreshold = DefaultSuccessThreshold
	}
}

// ID is the check's identifier in the monitor's API and metrics: its name
// in lower case with runs of other characters than letters and digits
// turned into one "-".
func (c *Check) ID() string { return Slug(c.Name) }

// Slug lower-cases s and turns runs of other characters than letters and
// digits into one "-".
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// condList reads a list of conditions (list names it, item each entry).
func (l *loader) condList(c *Check, v *yaml.Node, list, item string) ([]*Condition, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, l.errAt(v.Line, "check %q: %s must be a list of expressions", c.Name, list)
	}
	known := func(p string) bool { return measure.Known(c.kind, p) }
	var out []*Condition
	for _, cn := range v.Content {
		if cn.Kind != yaml.ScalarNode {
			return nil, l.errAt(cn.Line, "check %q: a %s must be one expression such as 'status == 200'", c.Name, item)
		}
		cond, err := ParseCondition(cn.Value, known)
		if err != nil {
			return nil, l.errAt(cn.Line, "check %q: %s %q: %v", c.Name, item, cn.Value, err)
		}
		out = append(out, cond)
	}
	return out, nil
}

// String describes a window for people.
func (w Window) String() string {
	if !w.From.IsZero() {
		return fmt.Sprintf("%s to %s", w.From.Format(time.RFC3339), w.Until.Format(time.RFC3339))
	}
	days := "daily"
	if len(w.Days) > 0 {
		var ds []string
		for _, d := range w.Days {
			ds = append(ds, d.String()[:3])
		}
		days = strings.Join(ds, ",")
	}
	return fmt.Sprintf("%s %02d:%02d UTC for %s", days, int(w.Start.Hours()), int(w.Start.Minutes())%60, w.Duration)
}
