package check

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FieldError is a bad field of a check given on its own (ParseCheck):
// Field is its path ("options.timeout", "conditions[1]"; empty for the
// whole check), Detail what is wrong with it.
type FieldError struct {
	Field  string
	Detail string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Detail
	}
	return e.Field + ": " + e.Detail
}

// ErrCheck is wrapped by ParseCheck's errors (with a *FieldError).
var ErrCheck = errors.New("bad check")

// ParseCheck parses one check given on its own, as JSON or YAML (the
// API's body): the keys of a check in a suite file, without defaults. It
// returns the check and its normalised JSON form. ${NAME} references are
// refused (the environment is the server's) and so is a ca that names a
// file (a file of the server's): give the PEM itself.
func ParseCheck(source string, data []byte) (*Check, json.RawMessage, error) {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %w", ErrCheck, &FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, nil, bad("", "not JSON or YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, nil, bad("", "a check must be an object with name, kind, target and optional options, conditions, interval ...")
	}
	root := doc.Content[0]
	if path := findRef(root, ""); path != "" {
		return nil, nil, bad(path, "${NAME} references are not expanded in checks given through the API; write the value")
	}
	if ca := caFile(root); ca != "" {
		return nil, nil, bad("options.ca", "%q would read a file on the server; give the PEM text of the CA certificates", ca)
	}
	block(root)
	suite := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "checks"}, {Kind: yaml.SequenceNode, Content: []*yaml.Node{root}}}}
	text, err := yaml.Marshal(suite)
	if err != nil {
		return nil, nil, bad("", "%v", err)
	}
	s, err := Parse(source, text, func(string) (string, bool) { return "", false })
	if err != nil {
		return nil, nil, placeErr(source, text, err)
	}
	var v any
	if err := root.Decode(&v); err != nil {
		return nil, nil, bad("", "%v", err)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, nil, bad("", "%v", err)
	}
	return s.Checks[0], raw, nil
}

// findRef is the path of the first scalar with a ${ reference, or "".
func findRef(n *yaml.Node, path string) string {
	switch n.Kind {
	case yaml.ScalarNode:
		if strings.Contains(n.Value, "${") {
			return path
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if p := findRef(n.Content[i+1], join(path, n.Content[i].Value)); p != "" {
				return p
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p := findRef(c, path+"["+strconv.Itoa(i)+"]"); p != "" {
				return p
			}
		}
	}
	return ""
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// caFile is options.ca when it is not PEM text (a file name).
func caFile(root *yaml.Node) string {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "options" || root.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		o := root.Content[i+1]
		for j := 0; j+1 < len(o.Content); j += 2 {
			if v := o.Content[j+1]; o.Content[j].Value == "ca" && v.Kind == yaml.ScalarNode &&
				v.Value != "" && !strings.HasPrefix(strings.TrimSpace(v.Value), "-----BEGIN") {
				return v.Value
			}
		}
	}
	return ""
}

// block makes mappings and sequences block style, so every key and item
// of the encoded text is on a line of its own (errors name a line).
func block(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style = 0
	}
	for _, c := range n.Content {
		block(c)
	}
}

var suiteErr = regexp.MustCompile(`^bad suite: (.*?):(\d+): (.*)$`)

// placeErr turns a suite error on a line of text into a FieldError naming
// the key on that line.
func placeErr(source string, text []byte, err error) error {
	m := suiteErr.FindStringSubmatch(err.Error())
	if m == nil || m[1] != source {
		return fmt.Errorf("%w: %w", ErrCheck, &FieldError{Detail: strings.TrimPrefix(err.Error(), ErrSuite.Error()+": ")})
	}
	line, _ := strconv.Atoi(m[2])
	var doc yaml.Node
	field := ""
	if yaml.Unmarshal(text, &doc) == nil && len(doc.Content) > 0 {
		// doc: {checks: [check]}; paths are the check's own.
		if c := doc.Content[0]; len(c.Content) == 2 && len(c.Content[1].Content) == 1 {
			field = pathAt(c.Content[1].Content[0], "", line)
		}
	}
	detail := strings.TrimPrefix(m[3], "check ")
	if i := strings.Index(detail, "\": "); strings.HasPrefix(detail, "\"") && i > 0 {
		detail = detail[i+3:] // the check's name: the caller knows it
	}
	if k := needs.FindStringSubmatch(detail); k != nil {
		field, detail = k[1], "required: a check needs name, kind and target" // reported on the check's line
	}
	return fmt.Errorf("%w: %w", ErrCheck, &FieldError{Field: field, Detail: detail})
}

var needs = regexp.MustCompile(`^needs a (\w+)$`)

// pathAt is the path of the deepest key or item of n on line, or "".
func pathAt(n *yaml.Node, path string, line int) string {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			if deeper := pathAt(v, p, line); deeper != "" {
				return deeper
			}
			if k.Line == line {
				return p
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			if deeper := pathAt(c, p, line); deeper != "" {
				return deeper
			}
			if c.Line == line {
				return p
			}
		}
	}
	return ""
}

// CheckKeys are the keys a check may have.
func CheckKeys() []string {
	return append([]string{"name", "kind", "target", "options", "conditions"}, watchKeys...)
}
