package check

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Condition is a parsed condition expression (grammar in docs/CHECKS.md).
type Condition struct {
	Text string
	root node
}

// Env gives a condition the values of its variables.
type Env interface {
	Lookup(path string) (any, bool)
}

// Eval reports whether the condition holds in env.
func (c *Condition) Eval(env Env) (bool, error) { return c.root.eval(env) }

// Paths lists the variables the condition reads, sorted.
func (c *Condition) Paths() []string {
	set := map[string]bool{}
	c.root.paths(set)
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

type node interface {
	eval(Env) (bool, error)
	paths(map[string]bool)
}

type (
	orNode  struct{ l, r node }
	andNode struct{ l, r node }
	notNode struct{ x node }
	cmpNode struct {
		l, r operand
		op   string
		re   *regexp.Regexp
	}
	truthNode struct{ x operand }
)

// operand is a variable path or a literal (string, float64,
// time.Duration, bool or nil).
type operand struct {
	path string
	lit  any
}

func (o operand) value(env Env) (any, bool) {
	if o.path == "" {
		return o.lit, o.lit != nil
	}
	return env.Lookup(o.path)
}

func (n orNode) eval(env Env) (bool, error) {
	l, err := n.l.eval(env)
	if err != nil || l {
		return l, err
	}
	return n.r.eval(env)
}

func (n andNode) eval(env Env) (bool, error) {
	l, err := n.l.eval(env)
	if err != nil || !l {
		return l, err
	}
	return n.r.eval(env)
}

func (n notNode) eval(env Env) (bool, error) {
	v, err := n.x.eval(env)
	return !v, err
}

func (n truthNode) eval(env Env) (bool, error) {
	v, ok := n.x.value(env)
	return ok && truthy(v), nil
}

func (n cmpNode) eval(env Env) (bool, error) {
	l, lok := n.l.value(env)
	r, rok := n.r.value(env)
	if !lok || !rok {
		return n.op == "!=" && lok != rok, nil
	}
	switch n.op {
	case "contains":
		return contains(l, r), nil
	case "matches":
		return n.re.MatchString(toString(l)), nil
	}
	return compare(l, n.op, r)
}

func (n orNode) paths(s map[string]bool)  { n.l.paths(s); n.r.paths(s) }
func (n andNode) paths(s map[string]bool) { n.l.paths(s); n.r.paths(s) }
func (n notNode) paths(s map[string]bool) { n.x.paths(s) }
func (n truthNode) paths(s map[string]bool) {
	if n.x.path != "" {
		s[n.x.path] = true
	}
}
func (n cmpNode) paths(s map[string]bool) {
	for _, o := range []operand{n.l, n.r} {
		if o.path != "" {
			s[o.path] = true
		}
	}
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0
	case time.Duration:
		return x != 0
	case []any:
		return len(x) > 0
	case []string:
		return len(x) > 0
	}
	return v != nil
}

func contains(l, r any) bool {
	switch x := l.(type) {
	case []string:
		for _, e := range x {
			if ok, _ := compare(e, "==", r); ok {
				return true
			}
		}
		return false
	case []any:
		for _, e := range x {
			if ok, _ := compare(e, "==", r); ok {
				return true
			}
		}
		return false
	}
	return strings.Contains(toString(l), toString(r))
}

// compare applies op to l and r: durations with durations, numbers with
// numbers (a string that reads as a number counts as one), booleans and
// strings with their own kind.
func compare(l any, op string, r any) (bool, error) {
	l, r = normalize(l), normalize(r)
	ld, lIsDur := l.(time.Duration)
	rd, rIsDur := r.(time.Duration)
	switch {
	case lIsDur && rIsDur:
		return order(float64(ld), op, float64(rd)), nil
	case lIsDur || rIsDur:
		return false, fmt.Errorf("cannot compare %s with %s: write the number with a unit, such as 300ms or 14d", describeValue(l), describeValue(r))
	}
	if lf, ok := asNumber(l); ok {
		if rf, ok := asNumber(r); ok {
			return order(lf, op, rf), nil
		}
	}
	lb, lIsBool := l.(bool)
	rb, rIsBool := r.(bool)
	if lIsBool || rIsBool {
		if !(lIsBool && rIsBool) || (op != "==" && op != "!=") {
			return false, fmt.Errorf("cannot compare %s %s %s", describeValue(l), op, describeValue(r))
		}
		return (lb == rb) == (op == "=="), nil
	}
	ls, rs := toString(l), toString(r)
	switch op {
	case "==":
		return ls == rs, nil
	case "!=":
		return ls != rs, nil
	}
	return order(float64(strings.Compare(ls, rs)), op, 0), nil
}

func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint16:
		return float64(x)
	}
	return v
}

func asNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

func order(l float64, op string, r float64) bool {
	switch op {
	case "==":
		return l == r
	case "!=":
		return l != r
	case "<":
		return l < r
	case "<=":
		return l <= r
	case ">":
		return l > r
	case ">=":
		return l >= r
	}
	return false
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case time.Duration:
		return formatDuration(x)
	case nil:
		return "<missing>"
	case []string:
		return "[" + strings.Join(x, ", ") + "]"
	}
	return fmt.Sprint(v)
}

func describeValue(v any) string {
	switch v.(type) {
	case time.Duration:
		return "duration " + toString(v)
	case float64:
		return "number " + toString(v)
	case bool:
		return "boolean " + toString(v)
	}
	return strconv.Quote(toString(v))
}

// formatDuration prints whole days as "14d", others as Go does, rounded.
func formatDuration(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%.1fd", math.Floor(d.Hours()/24*10)/10)
	}
	if d >= time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}
