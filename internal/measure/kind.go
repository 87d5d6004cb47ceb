package measure

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"
)

// MaxTarget bounds a target's length in bytes.
const MaxTarget = 2048

// spec is a Kind whose options are the struct O.
type spec[O any] struct {
	info Info
	// prepare validates the (already limit-checked) options and the
	// trimmed target and returns the run and the hosts it connects to.
	prepare func(ctx context.Context, env *Env, target string, o *O) (RunFunc, []string, error)
	values  func(result any) *Values
}

func (s *spec[O]) Info() *Info { return &s.info }

func (s *spec[O]) Options() []Field { return fieldsOf(reflect.TypeFor[O]()) }

func (s *spec[O]) Values(result any) *Values {
	if result == nil {
		return &Values{M: map[string]any{"ok": false}}
	}
	return s.values(result)
}

func (s *spec[O]) Prepare(ctx context.Context, env *Env, target string, raw json.RawMessage) (*Plan, error) {
	o := new(O)
	if err := decodeOptions(raw, o); err != nil {
		return nil, err
	}
	return s.PrepareWith(ctx, env, target, o)
}

func (s *spec[O]) PrepareWith(ctx context.Context, env *Env, target string, opts any) (*Plan, error) {
	o, ok := opts.(*O)
	if !ok {
		return nil, fmt.Errorf("%s options: got %T, want %T", s.info.Name, opts, new(O))
	}
	target = strings.TrimSpace(target)
	if err := checkTarget(target, s.info.Target); err != nil {
		return nil, err
	}
	if err := checkLimits(reflect.ValueOf(o).Elem()); err != nil {
		return nil, err
	}
	if env == nil {
		env = &Env{}
	}
	run, hosts, err := s.prepare(ctx, env, target, o)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encoding %s options: %w", s.info.Name, err)
	}
	p := &Plan{Kind: s.info.Name, Target: target, Options: raw, Timeout: s.info.Timeout, Hosts: hosts, Run: run}
	if t, ok := any(o).(interface{ overall() time.Duration }); ok {
		// The engine stops itself at the option's timeout; the run's own
		// bound leaves it a moment to report.
		if d := t.overall(); d > 0 && d+2*time.Second < p.Timeout {
			p.Timeout = d + 2*time.Second
		}
	}
	return p, nil
}

// checkTarget refuses an empty, oversized or control-character target.
func checkTarget(target, what string) error {
	switch {
	case target == "":
		return fieldErr("target", "missing; give %s", what)
	case len(target) > MaxTarget:
		return fieldErr("target", "%d bytes; at most %d", len(target), MaxTarget)
	case strings.ContainsFunc(target, unicode.IsControl):
		return fieldErr("target", "contains a control character (NUL, newline ...); give %s", what)
	}
	return nil
}

// hostOf is the host part of a URL or host:port target.
func hostOf(target string) string {
	host := target
	if _, rest, ok := strings.Cut(target, "://"); ok {
		host, _, _ = strings.Cut(rest, "/")
		if i := strings.LastIndexByte(host, '@'); i >= 0 {
			host = host[i+1:]
		}
	}
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i > 0 {
			return host[1:i]
		}
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.Count(host, ":") == 1 {
		host = host[:i]
	}
	return host
}
