// Command genkinds writes the GraphQL option types of the registry of
// kinds (kinds.graphqls); `go generate ./internal/graphql` runs it.
package main

import (
	"fmt"
	"os"

	"github.com/dnsscience/dnsscience/internal/graphql"
	"github.com/dnsscience/dnsscience/internal/measure"
)

func main() {
	out := "kinds.graphqls"
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	if err := os.WriteFile(out, graphql.KindSchema(measure.New()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genkinds:", err)
		os.Exit(1)
	}
}
