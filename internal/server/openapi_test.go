package server

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
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
