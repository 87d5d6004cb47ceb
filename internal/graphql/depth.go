package graphql

import (
	"context"
	"fmt"

	gql "github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// depthLimit refuses an operation whose fields nest deeper than max
// (fragments and inline fragments count as the fields they hold). The
// schema's own types nest only a few levels; introspection nests deeper
// (type { ofType { ofType ... } }): the standard introspection query of
// GraphiQL and code generators is 13 deep.
type depthLimit struct{ max int }

func (depthLimit) ExtensionName() string { return "DepthLimit" }

func (depthLimit) Validate(gql.ExecutableSchema) error { return nil }

// MutateOperationContext checks the operation before it runs.
func (d depthLimit) MutateOperationContext(_ context.Context, oc *gql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if n := depth(oc.Operation.SelectionSet, oc.Doc.Fragments, 0, map[string]bool{}); n > d.max {
		return &gqlerror.Error{
			Message:    fmt.Sprintf("the query nests fields %d deep; at most %d are allowed", n, d.max),
			Extensions: map[string]any{"code": "DEPTH_LIMIT_EXCEEDED", "depth": n, "maxDepth": d.max},
		}
	}
	return nil
}

// depth is how deep a selection set nests fields below level.
func depth(set ast.SelectionSet, frags ast.FragmentDefinitionList, level int, seen map[string]bool) int {
	most := level
	for _, sel := range set {
		var n int
		switch s := sel.(type) {
		case *ast.Field:
			n = depth(s.SelectionSet, frags, level+1, seen)
		case *ast.InlineFragment:
			n = depth(s.SelectionSet, frags, level, seen)
		case *ast.FragmentSpread:
			if seen[s.Name] {
				continue // a cycle: validation refuses it
			}
			if f := frags.ForName(s.Name); f != nil {
				seen[s.Name] = true
				n = depth(f.SelectionSet, frags, level, seen)
				delete(seen, s.Name)
			}
		}
		most = max(most, n)
	}
	return most
}

var _ gql.OperationContextMutator = depthLimit{}
