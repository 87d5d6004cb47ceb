// Package check loads suite files — YAML lists of checks of any kind in the
// measurement registry (dns, propagation, tcp, cert, http, ws, trace, geo,
// diagnose), with the registry's options and conditions in a small
// expression language — and runs them concurrently, reporting PASS/FAIL
// per check and the overall success rate.
package check

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dnsscience/dnsscience/internal/measure"
)

// ErrSuite is wrapped by every error in a suite file; the message starts
// with file:line.
var ErrSuite = errors.New("bad suite")

// Suite is one loaded suite file.
type Suite struct {
	File string
	// Files are the other files it read (CA files), so a watcher reloads
	// the suite when one changes.
	Files    []string
	Name     string
	Defaults Defaults
	Checks   []*Check
	// Channels are where alerts go (channels:), by the checks' Alerts.
	Channels []*Channel
}

// Defaults apply to every check of a suite that does not set its own.
type Defaults struct {
	// Timeout bounds each check; 0 means 10 s.
	Timeout time.Duration
	// Resolvers are used by dns (the first one), propagation and diagnose
	// checks; empty means the system's resolvers.
	Resolvers []string
	// Concurrency bounds the checks run at once; 0 means 8.
	Concurrency int
	// CA is a PEM file of CA certificates for tls, http and ws checks;
	// empty means the system roots.
	CA string
	// Watch is what the monitor uses for checks that do not set their own.
	Watch Watch
}

// Check is one check of a suite.
type Check struct {
	Name   string
	Kind   string // the registry's name ("tls" is read as "cert")
	Target string
	// Options are the kind's options as JSON (the API's names and
	// values), with the suite's defaults applied and a ca file read in.
	Options    json.RawMessage
	Conditions []*Condition
	// Alerts says where and when the monitor sends the check's state changes.
	Alerts Alerts
	// Watch says how the monitor runs the check (interval, thresholds ...).
	Watch Watch
	File  string
	Line  int

	kind measure.Kind
}

// Load reads and parses a suite file; getenv resolves ${NAME} references
// (nil means os.LookupEnv).
func Load(path string, getenv func(string) (string, bool)) (*Suite, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading suite: %w", err)
	}
	return Parse(path, data, getenv)
}

// Parse parses suite text; file names it in errors.
func Parse(file string, data []byte, getenv func(string) (string, bool)) (*Suite, error) {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	l := &loader{file: file, getenv: getenv, reg: measure.New()}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, l.yamlErr(err)
	}
	if len(doc.Content) == 0 {
		return nil, l.errAt(1, "empty suite; expected a mapping with checks")
	}
	if err := l.expand(doc.Content[0]); err != nil {
		return nil, err
	}
	s, err := l.suite(doc.Content[0])
	if err != nil {
		return nil, err
	}
	s.Files = l.files
	return s, nil
}

type loader struct {
	file   string
	files  []string // CA files read
	getenv func(string) (string, bool)
	reg    *measure.Registry
	// chans are the suite's channels by name; groupAlerts and defAlerts
	// the alert settings of groups and of the defaults.
	chans       map[string]*Channel
	groupAlerts map[string]alertSettings
	defAlerts   alertSettings
}

func (l *loader) errAt(line int, format string, args ...any) error {
	return fmt.Errorf("%w: %s:%d: %s", ErrSuite, l.file, line, fmt.Sprintf(format, args...))
}

var yamlLine = regexp.MustCompile(`^yaml: (?:unmarshal errors:\n\s*)?line (\d+): `)

func (l *loader) yamlErr(err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%w: %s:%s: %s", ErrSuite, l.file, m[1], strings.TrimSpace(msg[len(m[0]):]))
	}
	return fmt.Errorf("%w: %s: %s", ErrSuite, l.file, strings.TrimPrefix(msg, "yaml: "))
}

var envRef = regexp.MustCompile(`\$\{([^}]*)\}`)

// expand replaces ${NAME} in every scalar with the environment variable.
func (l *loader) expand(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		var err error
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			name := ref[2 : len(ref)-1]
			if !validEnvName(name) {
				err = l.errAt(n.Line, "bad environment reference %q: want ${NAME} with letters, digits and _", ref)
				return ref
			}
			v, ok := l.getenv(name)
			if !ok && err == nil {
				err = l.errAt(n.Line, "environment variable %s is not set", name)
			}
			return v
		})
		if err != nil {
			return err
		}
	}
	for _, c := range n.Content {
		if err := l.expand(c); err != nil {
			return err
		}
	}
	return nil
}

func validEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// fields checks that n is a mapping with only allowed keys and returns its
// values by key.
func (l *loader) fields(n *yaml.Node, what string, allowed []string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, l.errAt(n.Line, "%s must be a mapping", what)
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !slices.Contains(allowed, k.Value) {
			return nil, l.errAt(k.Line, "unknown key %q in %s; expected one of: %s", k.Value, what, strings.Join(allowed, ", "))
		}
		if _, dup := out[k.Value]; dup {
			return nil, l.errAt(k.Line, "duplicate key %q in %s", k.Value, what)
		}
		out[k.Value] = v
	}
	return out, nil
}

func (l *loader) suite(root *yaml.Node) (*Suite, error) {
	f, err := l.fields(root, "the suite", []string{"name", "defaults", "checks", "channels", "groups", "default_alerts"})
	if err != nil {
		return nil, err
	}
	s := &Suite{File: l.file}
	if n := f["name"]; n != nil {
		s.Name = n.Value
	}
	l.chans = map[string]*Channel{}
	if n := f["channels"]; n != nil {
		if s.Channels, err = l.channels(n); err != nil {
			return nil, err
		}
		for _, c := range s.Channels {
			l.chans[c.Name] = c
		}
	}
	if n := f["groups"]; n != nil {
		if l.groupAlerts, err = l.groups(n); err != nil {
			return nil, err
		}
	}
	if n := f["defaults"]; n != nil {
		if s.Defaults, err = l.defaults(n); err != nil {
			return nil, err
		}
	}
	if n := f["default_alerts"]; n != nil {
		da, err := l.defaultAlerts(n)
		if err != nil {
			return nil, err
		}
		l.defAlerts = da.over(l.defAlerts)
	}
	checks := f["checks"]
	if checks == nil || checks.Kind != yaml.SequenceNode || len(checks.Content) == 0 {
		line := root.Line
		if checks != nil {
			line = checks.Line
		}
		return nil, l.errAt(line, "the suite needs a non-empty list under checks")
	}
	seen := map[string]int{}
	for _, cn := range checks.Content {
		c, err := l.check(cn, s.Defaults)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[c.Name]; dup {
			return nil, l.errAt(c.Line, "check name %q is already used on line %d", c.Name, prev)
		}
		seen[c.Name] = c.Line
		s.Checks = append(s.Checks, c)
	}
	return s, nil
}

func (l *loader) defaults(n *yaml.Node) (Defaults, error) {
	var d Defaults
	f, err := l.fields(n, "defaults", slices.Concat([]string{"timeout", "resolvers", "concurrency", "ca"}, watchKeys, alertKeys))
	if err != nil {
		return d, err
	}
	if l.defAlerts, err = l.alertSettings(f); err != nil {
		return d, err
	}
	if d.Watch, err = l.watch(f, Watch{}, nil); err != nil {
		return d, err
	}
	if v := f["timeout"]; v != nil {
		if d.Timeout, err = l.duration(v, "timeout"); err != nil {
			return d, err
		}
	}
	if v := f["resolvers"]; v != nil {
		if d.Resolvers, err = l.resolvers(v); err != nil {
			return d, err
		}
	}
	if v := f["concurrency"]; v != nil {
		if err := v.Decode(&d.Concurrency); err != nil || d.Concurrency < 1 {
			return d, l.errAt(v.Line, "concurrency must be a positive whole number, not %q", v.Value)
		}
	}
	if v := f["ca"]; v != nil {
		d.CA = v.Value
	}
	return d, nil
}

func (l *loader) duration(v *yaml.Node, what string) (time.Duration, error) {
	d, err := parseDuration(v.Value)
	if err != nil || d <= 0 {
		return 0, l.errAt(v.Line, "bad %s %q: want a positive duration such as 5s or 500ms", what, v.Value)
	}
	return d, nil
}
