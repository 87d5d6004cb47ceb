package measure

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// FieldError is bad input in one field: which field ("target",
// "options.max_hops") and what was wrong and what is accepted.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Detail }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Detail: fmt.Sprintf(format, args...)}
}

// Duration is an option holding a duration, written as Go durations are
// ("5s", "500ms", "1m30s").
type Duration time.Duration

// D is the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration as a string ("5s").
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("want a duration such as 5s or 500ms")
	}
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || v < 0 {
		return fmt.Errorf("%q is not a duration; want one such as 5s or 500ms", s)
	}
	*d = Duration(v)
	return nil
}

// Field describes one option: its JSON (and YAML) name, type, meaning,
// default and limits. It is read from the options struct's tags:
// json, doc, default, min, max and enum.
type Field struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"` // string, integer, boolean, duration, strings, integers, map
	Doc     string   `json:"description"`
	Default string   `json:"default,omitempty"`
	Min     string   `json:"min,omitempty"`
	Max     string   `json:"max,omitempty"`
	Enum    []string `json:"enum,omitempty"`
}

var durationType = reflect.TypeFor[Duration]()

// fieldsOf lists the options of a struct type, embedded structs flattened.
func fieldsOf(t reflect.Type) []Field {
	var out []Field
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			out = append(out, fieldsOf(sf.Type)...)
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		f := Field{Name: name, Type: typeName(sf.Type), Doc: sf.Tag.Get("doc"), Default: sf.Tag.Get("default"),
			Min: sf.Tag.Get("min"), Max: sf.Tag.Get("max")}
		if e := sf.Tag.Get("enum"); e != "" {
			f.Enum = strings.Split(e, ",")
		}
		out = append(out, f)
	}
	return out
}

func typeName(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		return "duration"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Uint16, reflect.Uint32:
		return "integer"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return "strings"
		}
		return "integers"
	case reflect.Map:
		return "map"
	}
	return t.String()
}

// JSONSchema is the field as a JSON Schema property (for OpenAPI).
func (f Field) JSONSchema() map[string]any {
	s := map[string]any{"description": f.Doc}
	num := func(v string) any {
		n, _ := strconv.ParseFloat(v, 64)
		return n
	}
	switch f.Type {
	case "string", "duration":
		s["type"] = "string"
		if f.Type == "duration" {
			s["format"] = "duration"
		}
	case "boolean":
		s["type"] = "boolean"
	case "integer":
		s["type"] = "integer"
		if f.Min != "" {
			s["minimum"] = num(f.Min)
		}
		if f.Max != "" {
			s["maximum"] = num(f.Max)
		}
	case "strings", "integers":
		item := "string"
		if f.Type == "integers" {
			item = "integer"
		}
		s["type"], s["items"] = "array", map[string]any{"type": item}
		if f.Max != "" {
			s["maxItems"] = num(f.Max)
		}
	case "map":
		s["type"], s["additionalProperties"] = "object", map[string]any{"type": "string"}
	}
	if len(f.Enum) > 0 {
		enum := make([]any, len(f.Enum))
		for i, e := range f.Enum {
			enum[i] = e
			if f.Type == "integer" {
				enum[i] = num(e)
			}
		}
		s["enum"] = enum
	}
	if f.Default != "" {
		s["default"] = f.Default
		if f.Type == "integer" {
			s["default"] = num(f.Default)
		}
	}
	return s
}

// OptionsSchema is a kind's options as a JSON Schema object.
func OptionsSchema(k Kind) map[string]any {
	props := map[string]any{}
	for _, f := range k.Options() {
		props[f.Name] = f.JSONSchema()
	}
	return map[string]any{"type": "object", "additionalProperties": false, "properties": props,
		"description": "Options of the " + k.Info().Name + " measurement (" + k.Info().Summary + ")"}
}

// decodeOptions decodes JSON options strictly into v: unknown fields and
// wrong types are errors naming the field.
func decodeOptions(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the options object")
	}
	if err == nil {
		return nil
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return fieldErr("options."+strings.Trim(f, `"`), "unknown option for this measurement type; known: %s", strings.Join(names(fieldsOf(reflect.TypeOf(v).Elem())), ", "))
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fieldErr("options."+lastField(te.Field), "want a %s, got a %s", jsonKind(te.Type), te.Value)
	}
	if field, detail, ok := badKey(raw, reflect.TypeOf(v).Elem()); ok {
		return fieldErr("options."+field, "%s", detail)
	}
	return fieldErr("options", "not a valid JSON object: %v", err)
}

// badKey finds the option whose value a custom decoder (durations, lists
// of one) refused, by decoding the keys one at a time.
func badKey(raw json.RawMessage, t reflect.Type) (string, string, bool) {
	var keys map[string]json.RawMessage
	if json.Unmarshal(raw, &keys) != nil {
		return "", "", false
	}
	for k, v := range keys {
		one, _ := json.Marshal(map[string]json.RawMessage{k: v})
		if err := json.Unmarshal(one, reflect.New(t).Interface()); err != nil {
			return k, strings.TrimPrefix(err.Error(), "json: "), true
		}
	}
	return "", "", false
}

func names(fs []Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

func lastField(path string) string {
	// Embedded structs show up as "ProbeOptions.timeout_ms".
	if i := strings.LastIndexByte(path, '.'); i >= 0 && i+1 < len(path) && path[i+1] >= 'a' && path[i+1] <= 'z' {
		return path[i+1:]
	}
	return path
}

func jsonKind(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice:
		return "list"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return "number"
}

// checkLimits applies the min, max and enum tags of an options struct.
func checkLimits(v reflect.Value) error {
	t := v.Type()
	for i := range t.NumField() {
		sf, fv := t.Field(i), v.Field(i)
		if sf.Anonymous {
			if err := checkLimits(fv); err != nil {
				return err
			}
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if err := checkField("options."+name, sf.Tag, fv); err != nil {
			return err
		}
	}
	return nil
}

func checkField(field string, tag reflect.StructTag, fv reflect.Value) error {
	minT, maxT, enum := tag.Get("min"), tag.Get("max"), tag.Get("enum")
	if fv.Kind() == reflect.Pointer {
		if fv.IsNil() {
			return nil
		}
		fv = fv.Elem()
		if fv.CanInt() && fv.Int() < 0 {
			return fieldErr(field, "%d; want %s to %s", fv.Int(), minT, maxT)
		}
	}
	switch {
	case fv.Type() == durationType:
		d := time.Duration(fv.Int())
		if maxT != "" && d != 0 {
			if limit, _ := time.ParseDuration(maxT); d > limit {
				return fieldErr(field, "%s is longer than the most allowed, %s", d, maxT)
			}
		}
	case fv.CanInt() || fv.CanUint():
		n := int64(0)
		if fv.CanInt() {
			n = fv.Int()
		} else {
			n = int64(fv.Uint())
		}
		if n == 0 {
			return nil // the documented default
		}
		if enum != "" && !contains(strings.Split(enum, ","), strconv.FormatInt(n, 10)) {
			return fieldErr(field, "%d; want %s", n, orList(enum))
		}
		lo, _ := strconv.ParseInt(minT, 10, 64)
		hi, errHi := strconv.ParseInt(maxT, 10, 64)
		if minT != "" && n < lo || errHi == nil && n > hi {
			return fieldErr(field, "%d; want %s to %s", n, minT, maxT)
		}
	case fv.Kind() == reflect.String:
		s := fv.String()
		if strings.ContainsFunc(s, func(r rune) bool { return r == 0 }) {
			return fieldErr(field, "contains a NUL byte")
		}
		if s != "" && enum != "" && !contains(strings.Split(enum, ","), strings.ToLower(s)) {
			return fieldErr(field, "%q; want %s", s, orList(enum))
		}
	case fv.Kind() == reflect.Slice:
		if hi, err := strconv.Atoi(maxT); err == nil && fv.Len() > hi {
			return fieldErr(field, "%d entries; at most %d", fv.Len(), hi)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func orList(enum string) string {
	parts := strings.Split(enum, ",")
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}
