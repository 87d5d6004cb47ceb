package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode"
)

// checkJSONType accepts a body sent as application/json (with an optional
// charset=utf-8), or as one of types when given, and nothing else.
func checkJSONType(r *http.Request, types ...string) error {
	if len(types) == 0 {
		types = []string{"application/json"}
	}
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	cs, hasCS := params["charset"]
	if err != nil || !slices.Contains(types, mt) || (hasCS && !strings.EqualFold(cs, "utf-8")) || len(params) > 1 || (len(params) == 1 && !hasCS) {
		return &Problem{Type: problemBase + "validation", Title: "Unsupported media type", Status: http.StatusUnsupportedMediaType,
			Detail: fmt.Sprintf("Content-Type %q; send %s", ct, strings.Join(types, " or "))}
	}
	return nil
}

// strictJSON checks a body is one JSON object whose keys are among top
// (exactly, in case), with no key twice at any depth and nothing after it.
func strictJSON(body []byte, top []string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return badRequest("the body is not JSON: " + err.Error())
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return badRequest("the body must be a JSON object with " + strings.Join(top, ", "))
	}
	if err := walkObject(dec, "", top); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("the body has data after its JSON object; send one object")
	}
	return nil
}

// walkObject reads an object's members (after its '{'), refusing
// duplicate keys and, when allowed is not nil, keys not in it.
func walkObject(dec *json.Decoder, path string, allowed []string) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return badRequest("the body is not JSON: " + err.Error())
		}
		key, _ := tok.(string)
		field := strings.TrimPrefix(path+"."+key, ".")
		if seen[key] {
			return fieldError(field, "given twice; give each field once")
		}
		seen[key] = true
		if allowed != nil && !slices.Contains(allowed, key) {
			return fieldError(field, "unknown field; the body has %s (in lower case)", strings.Join(allowed, ", "))
		}
		if err := walkValue(dec, field); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	if err != nil {
		return badRequest("the body is not JSON: " + err.Error())
	}
	return nil
}

func walkValue(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return badRequest("the body is not JSON: " + err.Error())
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if d == '{' {
		return walkObject(dec, path, nil)
	}
	for dec.More() {
		if err := walkValue(dec, path+"[]"); err != nil {
			return err
		}
	}
	_, err = dec.Token() // ']'
	if err != nil {
		return badRequest("the body is not JSON: " + err.Error())
	}
	return nil
}

// checkTarget refuses targets no kind could mean: empty ones, NUL and
// other control characters, and over-long ones.
func checkTarget(t string) error {
	if len(t) > 2048 {
		return fieldError("target", "%d bytes; at most 2048", len(t))
	}
	for i, r := range t {
		if unicode.IsControl(r) {
			return fieldError("target", "control character %U at byte %d; a target is a name, an address or a URL", r, i)
		}
	}
	return nil
}
