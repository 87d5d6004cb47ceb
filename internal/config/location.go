package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/runner"
)

// locationFields parse the fields of a location, shared by the location
// block (the server's own) and each entry of locations.
var locationFields = []string{"id", "name", "provider", "city", "country", "latitude", "longitude", "endpoint"}

func setLocationField(l *runner.Location, field, v string) error {
	switch field {
	case "id":
		if v == "" || strings.ContainsAny(v, " ,/") {
			return fmt.Errorf("want an id without spaces, commas or slashes, such as fra")
		}
		l.ID = v
	case "name":
		l.Name = v
	case "provider":
		l.Provider = v
	case "city":
		l.City = v
	case "country":
		l.Country = v
	case "endpoint":
		l.Endpoint = v
	case "latitude", "longitude":
		limit := 90.0
		if field == "longitude" {
			limit = 180
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < -limit || f > limit {
			return fmt.Errorf("want a number of degrees from %g to %g", -limit, limit)
		}
		if field == "latitude" {
			l.Latitude = &f
		} else {
			l.Longitude = &f
		}
	}
	return nil
}

// locField sets a field of the server's own location.
func locField(field string) func(*Server, string) error {
	return func(s *Server, v string) error { return setLocationField(&s.Location, field, v) }
}

// decodeLocations decodes the locations list strictly: a list of mappings
// of the location fields, each with an id.
func decodeLocations(s *Server, n *yaml.Node, path string) error {
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("%s:%d: locations: want a list of mappings with %s, got %s", path, n.Line, strings.Join(locationFields, ", "), shape(n))
	}
	s.Locations = nil
	clear(s.locWhere)
	for _, item := range n.Content {
		if item.Kind != yaml.MappingNode {
			return fmt.Errorf("%s:%d: locations: want each location to be a mapping with %s, got %s", path, item.Line, strings.Join(locationFields, ", "), shape(item))
		}
		l, err := decodeLocation(item, path)
		if err != nil {
			return err
		}
		at := fmt.Sprintf("%s:%d: locations", path, item.Line)
		if prev, dup := s.locWhere[l.ID]; dup {
			return fmt.Errorf("%s: id %q is already used (%s)", at, l.ID, prev)
		}
		s.locWhere[l.ID] = at
		s.Locations = append(s.Locations, l)
	}
	return nil
}

func decodeLocation(m *yaml.Node, path string) (runner.Location, error) {
	var l runner.Location
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		at := fmt.Sprintf("%s:%d: locations", path, k.Line)
		if line, dup := seen[k.Value]; dup {
			return l, fmt.Errorf("%s: %s is already set on line %d", at, k.Value, line)
		}
		seen[k.Value] = k.Line
		if !slices.Contains(locationFields, k.Value) {
			return l, fmt.Errorf("%s: unknown field %q; known: %s", at, k.Value, strings.Join(locationFields, ", "))
		}
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			return l, fmt.Errorf("%s: %s: want one value, got %s", at, k.Value, shape(v))
		}
		if err := setLocationField(&l, k.Value, v.Value); err != nil {
			return l, fmt.Errorf("%s: %s %q: %w", at, k.Value, v.Value, err)
		}
	}
	at := fmt.Sprintf("%s:%d: locations", path, m.Line)
	if l.ID == "" {
		return l, fmt.Errorf("%s: a location needs an id", at)
	}
	if (l.Latitude == nil) != (l.Longitude == nil) {
		return l, fmt.Errorf("%s: location %q: give both latitude and longitude, or neither", at, l.ID)
	}
	return l, nil
}

// applyNodeText applies a structured setting given as YAML text (in the
// environment).
func (s *Server) applyNodeText(st *setting, text string, layer int, where string) error {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return fmt.Errorf("%s: want YAML such as [{id: fra, name: Frankfurt}]: %w", where, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	if err := st.node(s, doc.Content[0], where); err != nil {
		return err
	}
	s.origin[st.key] = origin{layer, where}
	return nil
}

// LocalLocation is the server's own location. Coordinates not configured
// come from the geo data for public_address (with the city and country when
// those are not configured either); without them they stay unknown (nil),
// never 0,0. how says where the coordinates came from, for the log.
func (s *Server) LocalLocation(g *geo.DB) (l runner.Location, how string) {
	l = s.Location
	if l.Located() {
		return l, "configured"
	}
	if !s.PublicAddress.IsValid() {
		return l, "unknown: set location.latitude and location.longitude, or public_address"
	}
	if g == nil {
		return l, "unknown: no geo data to look up public_address " + s.PublicAddress.String()
	}
	info := g.Lookup(s.PublicAddress)
	if !info.FillPlace(&l.Latitude, &l.Longitude, &l.City, &l.Country) {
		why := info.Note
		if why == "" {
			why = "no coordinates in the geo data"
		}
		return l, fmt.Sprintf("unknown: public_address %s: %s", s.PublicAddress, why)
	}
	return l, "geo data for public_address " + s.PublicAddress.String()
}

// AllLocations are the server's own location, first (it runs measurements
// here), then the other configured locations.
func (s *Server) AllLocations(g *geo.DB) ([]runner.Location, string) {
	local, how := s.LocalLocation(g)
	return append([]runner.Location{local}, s.Locations...), how
}
