package graphql

import (
	"bytes"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/measure"
)

// TestKindSchemaMatchesRegistry fails when the committed GraphQL option
// types (kinds.graphqls) or the code gqlgen generated from them
// (generated.go) disagree with the registry: run `go generate
// ./internal/graphql` after adding a kind or an option.
func TestKindSchemaMatchesRegistry(t *testing.T) {
	reg := measure.New()
	committed, err := os.ReadFile("kinds.graphqls")
	if err != nil {
		t.Fatal(err)
	}
	if want := KindSchema(reg); !bytes.Equal(committed, want) {
		t.Errorf("kinds.graphqls differs from the registry; run go generate ./internal/graphql\n--- want\n%s", want)
	}
	gen, err := os.ReadFile("generated.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range reg.Kinds() {
		if len(k.Options()) == 0 {
			continue
		}
		typ := optionsType(k)
		re := regexp.MustCompile(`(?s)func \(ec \*executionContext\) unmarshalInput` + typ + `\(.*?fieldsInOrder := \[\.\.\.\]string\{([^}]*)\}`)
		m := re.FindSubmatch(gen)
		if m == nil {
			t.Errorf("generated.go has no decoder of %s; run go generate ./internal/graphql", typ)
			continue
		}
		var got []string
		for _, f := range strings.Split(string(m[1]), ",") {
			got = append(got, strings.Trim(strings.TrimSpace(f), `"`))
		}
		var want []string
		for _, f := range k.Options() {
			want = append(want, f.Name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("generated.go decodes %s fields %v, the registry has %v; run go generate ./internal/graphql", typ, got, want)
		}
	}
	// The schema served names every kind with options.
	for _, k := range reg.Kinds() {
		if len(k.Options()) > 0 && !strings.Contains(Schema(), "input "+optionsType(k)+" ") {
			t.Errorf("the served schema lacks %s", optionsType(k))
		}
	}
}

// TestKindSchemaTypes: option types map to GraphQL types, with defaults
// and limits in the descriptions.
func TestKindSchemaTypes(t *testing.T) {
	s := string(KindSchema(measure.New()))
	for _, want := range []string{
		"  max_hops: Int\n",
		"  no_dns: Boolean\n",
		"  headers: JSON\n",
		"  resolvers: [String!]\n",
		"  expect_status: [Int!]\n",
		"  timeout: String\n",
		"  trace: TraceOptions\n",
		"[default 30; min 1; max 255]",
		"one of icmp, udp, tcp",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("kind schema lacks %q", want)
		}
	}
	if strings.Contains(s, "GeoOptions") {
		t.Error("geo has no options; an empty input type is not valid GraphQL")
	}
}
