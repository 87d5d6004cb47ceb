package measure

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// Values are what a result gives to conditions: plain variables by name,
// plus, for HTTP, response headers (header.NAME) and a body whose JSON
// (body.json.a.b[0]) is parsed on first use.
type Values struct {
	M      map[string]any
	Header http.Header
	Body   string
	parsed bool
	json   any
	jsonOK bool
}

// Lookup returns a variable's value; false when it is unset.
func (v *Values) Lookup(path string) (any, bool) {
	if x, ok := v.M[path]; ok {
		return x, x != nil
	}
	if name, ok := strings.CutPrefix(path, "header."); ok && v.Header != nil {
		vals := v.Header.Values(name)
		if len(vals) == 0 {
			return nil, false
		}
		return strings.Join(vals, ", "), true
	}
	if path == "body.json" || strings.HasPrefix(path, "body.json.") {
		return v.jsonPath(strings.TrimPrefix(strings.TrimPrefix(path, "body.json"), "."))
	}
	return nil, false
}

func (v *Values) jsonPath(path string) (any, bool) {
	if !v.parsed {
		v.parsed = true
		v.jsonOK = json.Unmarshal([]byte(v.Body), &v.json) == nil
	}
	if !v.jsonOK {
		return nil, false
	}
	cur := v.json
	for _, seg := range splitPath(path) {
		switch x := cur.(type) {
		case map[string]any:
			var ok bool
			if cur, ok = x[seg]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			cur = x[i]
		default:
			return nil, false
		}
	}
	return cur, cur != nil
}

// splitPath splits a.b[0].c into a, b, 0, c.
func splitPath(p string) []string {
	p = strings.NewReplacer("[", ".", "]", "").Replace(p)
	var out []string
	for _, s := range strings.Split(p, ".") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Known reports whether a condition of kind k may read path.
func Known(k Kind, path string) bool {
	info := k.Info()
	if contains(commonVars(), path) || contains(info.Vars, path) {
		return true
	}
	for _, p := range info.VarPrefixes {
		if p == "body.json." && path == "body.json" || strings.HasPrefix(path, p) && len(path) > len(p) {
			return true
		}
	}
	return false
}

// as reads a result as the kind's result type T: the engine's own value,
// or its JSON (a result that came back from an agent, or from the store).
func as[T any](result any) (T, bool) {
	if v, ok := result.(T); ok {
		return v, true
	}
	var zero T
	b, err := json.Marshal(result)
	if err != nil {
		return zero, false
	}
	p := reflect.New(reflect.TypeFor[T]())
	if json.Unmarshal(b, p.Interface()) != nil {
		return zero, false
	}
	return p.Elem().Interface().(T), true
}

// valuesOf adapts a values function of one result type to any result.
func valuesOf[T any](f func(T) *Values) func(any) *Values {
	return func(result any) *Values {
		r, ok := as[T](result)
		if !ok {
			return &Values{M: map[string]any{"ok": false, "error": fmt.Sprintf("a result of unexpected shape (%T)", result)}}
		}
		return f(r)
	}
}
