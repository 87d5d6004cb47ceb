package server

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/measure"
)

// TestOpenAPIMatchesRoutes requires the OpenAPI description to list every
// documented route with its method, and nothing else.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	ts := startServer(t, Config{})
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Info    map[string]any            `json:"info"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if resp := ts.get(t, "/api/openapi.json", &doc); resp.StatusCode != 200 || doc.OpenAPI != "3.1.0" || doc.Info["version"] != "test" {
		t.Fatalf("openapi.json: %d openapi=%q version=%v", resp.StatusCode, doc.OpenAPI, doc.Info["version"])
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	var served []string
	for _, rt := range ts.srv.routeTable() {
		if !rt.undocumented {
			served = append(served, rt.method+" "+rt.pattern)
		}
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("OpenAPI and routes differ\ndocumented: %v\nserved:     %v", documented, served)
	}
	b, _ := json.Marshal(doc)
	if strings.Contains(string(b), "#/components/schemas/Missing") {
		t.Error("dangling reference")
	}
}

// TestOpenAPIMatchesRegistry: the measurement kinds and each kind's options
// schema in the served OpenAPI document are the registry's, and so is
// /api/v1/kinds; the hand-written openapi.yaml lists no kinds of its own
// that could drift.
func TestOpenAPIMatchesRegistry(t *testing.T) {
	ts := startServer(t, Config{})
	var doc struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	ts.get(t, "/api/openapi.json", &doc)
	var req struct {
		Properties struct {
			Type    struct{ Enum []string } `json:"type"`
			Options struct {
				AnyOf []map[string]string `json:"anyOf"`
			} `json:"options"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(doc.Components.Schemas["MeasurementRequest"], &req); err != nil {
		t.Fatal(err)
	}
	reg := measure.New()
	var want []string
	for _, k := range reg.Kinds() {
		want = append(want, k.Info().Name)
		want = append(want, k.Info().Aliases...)
		name := optionsSchemaName(k.Info().Name)
		wantSchema, _ := json.Marshal(measure.OptionsSchema(k))
		var got, exp any
		_ = json.Unmarshal(doc.Components.Schemas[name], &got)
		_ = json.Unmarshal(wantSchema, &exp)
		if !reflect.DeepEqual(got, exp) {
			t.Errorf("%s options schema\n got %s\nwant %s", k.Info().Name, doc.Components.Schemas[name], wantSchema)
		}
		for _, f := range k.Options() {
			if f.Doc == "" {
				t.Errorf("%s option %s has no description", k.Info().Name, f.Name)
			}
		}
		if !slices.ContainsFunc(req.Properties.Options.AnyOf, func(r map[string]string) bool { return r["$ref"] == "#/components/schemas/"+name }) {
			t.Errorf("MeasurementRequest.options does not refer to %s", name)
		}
	}
	slices.Sort(want)
	got := slices.Clone(req.Properties.Type.Enum)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("OpenAPI measurement types %v, registry %v", got, want)
	}
	if strings.Contains(string(openapiYAML), "enum: [dns,") {
		t.Error("openapi.yaml lists measurement types by hand; they come from the registry")
	}
	var kinds struct {
		Kinds []struct {
			Name    string          `json:"name"`
			Options []measure.Field `json:"options"`
		} `json:"kinds"`
	}
	ts.get(t, "/api/v1/kinds", &kinds)
	if len(kinds.Kinds) != len(reg.Kinds()) {
		t.Fatalf("/api/v1/kinds lists %d kinds, the registry %d", len(kinds.Kinds), len(reg.Kinds()))
	}
	for i, k := range reg.Kinds() {
		if kinds.Kinds[i].Name != k.Info().Name || !reflect.DeepEqual(kinds.Kinds[i].Options, k.Options()) {
			t.Errorf("/api/v1/kinds[%d] = %+v, registry %s %+v", i, kinds.Kinds[i], k.Info().Name, k.Options())
		}
	}
}
