package server

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/dnsscience/dnsscience/internal/measure"

	"go.yaml.in/yaml/v3"
)

//go:embed openapi.yaml
var openapiYAML []byte

// openAPIDoc converts the embedded OpenAPI description to JSON, with the
// measurement kinds and their options schemas generated from the registry.
func openAPIDoc(version string, reg *measure.Registry) ([]byte, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		return nil, fmt.Errorf("parsing openapi.yaml: %w", err)
	}
	if info, ok := doc["info"].(map[string]any); ok && version != "" {
		info["version"] = version
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	props := schemas["MeasurementRequest"].(map[string]any)["properties"].(map[string]any)
	var kinds, refs []any
	for _, k := range reg.Kinds() {
		kinds = append(kinds, k.Info().Name)
		for _, a := range k.Info().Aliases {
			kinds = append(kinds, a)
		}
		name := optionsSchemaName(k.Info().Name)
		schemas[name] = measure.OptionsSchema(k)
		refs = append(refs, map[string]any{"$ref": "#/components/schemas/" + name})
	}
	props["type"].(map[string]any)["enum"] = kinds
	props["options"].(map[string]any)["anyOf"] = refs
	return json.MarshalIndent(doc, "", "  ")
}

// optionsSchemaName names a kind's options schema: "DnsOptions".
func optionsSchemaName(kind string) string {
	return strings.ToUpper(kind[:1]) + kind[1:] + "Options"
}

func (s *Server) getOpenAPI(w http.ResponseWriter, _ *http.Request) error {
	b, err := openAPIDoc(s.cfg.Version, s.svc.Registry())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(b)
	return err
}
