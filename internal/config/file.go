package config

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// readFile applies the settings of a YAML file. It is strict: an unknown
// key, a key given twice or a value of the wrong shape is an error naming
// the file and line, and what is accepted.
func (s *Server) readFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading the configuration file: %w", err)
	}
	return s.parse(path, data)
}

// parse applies the settings of a configuration file's text.
func (s *Server) parse(path string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return yamlErr(path, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file: nothing set
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: want a mapping of settings such as \"listen: 127.0.0.1:8080\"", path, root.Line)
	}
	return s.readMapping(path, root, "", topKeys())
}

// readMapping applies the keys of a mapping; prefix is "location." inside
// the location block.
func (s *Server) readMapping(path string, m *yaml.Node, prefix string, known []string) error {
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		at := fmt.Sprintf("%s:%d", path, k.Line)
		if line, dup := seen[k.Value]; dup {
			return fmt.Errorf("%s: %s%s is already set on line %d", at, prefix, k.Value, line)
		}
		seen[k.Value] = k.Line
		if !slices.Contains(known, k.Value) {
			return fmt.Errorf("%s: unknown setting %q; known: %s", at, prefix+k.Value, strings.Join(known, ", "))
		}
		if prefix == "" && k.Value == "location" {
			if v.Kind != yaml.MappingNode {
				return fmt.Errorf("%s: location: want a mapping of %s", at, strings.Join(locationKeys(), ", "))
			}
			if err := s.readMapping(path, v, "location.", locationKeys()); err != nil {
				return err
			}
			continue
		}
		if err := s.readValue(lookupSetting(prefix+k.Value), v, fmt.Sprintf("%s: %s", at, prefix+k.Value), path); err != nil {
			return err
		}
	}
	return nil
}

// readValue applies one setting's value node.
func (s *Server) readValue(st *setting, v *yaml.Node, where, path string) error {
	if st.node != nil {
		if err := st.node(s, v, path); err != nil {
			return err
		}
		s.origin[st.key] = origin{layerFile, where}
		return nil
	}
	if !st.list {
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			return fmt.Errorf("%s: want one value: %s, got %s", where, st.doc, shape(v))
		}
		return s.apply(st, []string{v.Value}, layerFile, where, nil)
	}
	if v.Kind != yaml.SequenceNode {
		return fmt.Errorf("%s: want a list such as [a, b] (%s), got %s", where, st.doc, shape(v))
	}
	var vals, lines []string
	for _, item := range v.Content {
		if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
			return fmt.Errorf("%s:%d: %s: want each item to be one value, got %s", path, item.Line, st.key, shape(item))
		}
		vals = append(vals, item.Value)
		lines = append(lines, fmt.Sprintf("%s:%d: %s", path, item.Line, st.key))
	}
	return s.apply(st, vals, layerFile, where, lines)
}

// shape names the kind of a YAML node for errors.
func shape(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Tag == "!!null":
		return "nothing"
	}
	return fmt.Sprintf("%q", n.Value)
}

// topKeys are the keys a configuration file may hold.
func topKeys() []string {
	keys := []string{"location"}
	for _, st := range settings() {
		if !strings.Contains(st.key, ".") {
			keys = append(keys, st.key)
		}
	}
	slices.Sort(keys)
	return keys
}

// locationKeys are the keys of the location block.
func locationKeys() []string {
	var keys []string
	for _, st := range settings() {
		if k, ok := strings.CutPrefix(st.key, "location."); ok {
			keys = append(keys, k)
		}
	}
	return keys
}

// yamlErr puts the file name where the YAML parser says "yaml: line N".
func yamlErr(path string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ": "); ok {
			return fmt.Errorf("%s:%s: %s", path, n, tail)
		}
	}
	return fmt.Errorf("%s: %s", path, msg)
}
