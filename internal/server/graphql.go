package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/graphql"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/monitor"
)

// graphqlRoutes are the GraphQL face's routes: /graphql (queries and
// mutations over GET and POST, subscriptions over WebSocket, the GraphiQL
// page for a browser) and the schema.
func (s *Server) graphqlRoutes() []route {
	return []route{
		{method: "GET", pattern: "/graphql", handler: s.gql},
		{method: "POST", pattern: "/graphql", handler: s.gql},
		{method: "GET", pattern: "/api/v1/schema.graphql", handler: s.handle(s.getSchema)},
	}
}

// newGraphQL builds the GraphQL face over the server's measurement service.
func (s *Server) newGraphQL() (http.Handler, error) {
	f, err := graphql.New(graphql.Options{Service: s.svc, Callers: gqlCallers{s}, Resolvers: s.cfg.Resolvers,
		Geo: func() *geo.DB { return s.geo }, Monitor: s.cfg.Monitor, Checks: gqlCallers{s}, OriginPatterns: s.cfg.CORSOrigins, Log: s.log})
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.RawQuery == "" && !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
			strings.Contains(r.Header.Get("Accept"), "text/html") {
			s.graphiQL(w, r)
			return
		}
		f.ServeHTTP(w, r)
	}), nil
}

// getSchema answers GET /api/v1/schema.graphql.
func (s *Server) getSchema(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, err := w.Write([]byte(graphql.Schema()))
	return err
}

// gqlCallers lends the REST face's identity, rate limits and error
// reasons to the GraphQL face.
type gqlCallers struct{ s *Server }

// queueOwner is the REST caller inside a graphql.Caller.
type queueOwner struct{ who }

func (q queueOwner) Queue() string { return q.limitKey }

func (g gqlCallers) Caller(r *http.Request) (graphql.Caller, error) {
	c, err := g.s.caller(r)
	if err != nil {
		return graphql.Caller{}, err
	}
	return graphql.Caller{Owner: c.owner, Private: queueOwner{c}}, nil
}

func (g gqlCallers) EnsureOwner(w http.ResponseWriter, c graphql.Caller) graphql.Caller {
	q, _ := c.Private.(queueOwner)
	g.s.ensureOwner(w, &q.who)
	return graphql.Caller{Owner: q.owner, Private: q}
}

func (g gqlCallers) Limit(w http.ResponseWriter, c graphql.Caller, class string) error {
	q, ok := c.Private.(queueOwner)
	if !ok {
		return errors.New("graphql: a caller the server did not identify")
	}
	return g.s.allow(w, q.who, class)
}

func (g gqlCallers) ServiceError(err error) error {
	if err == nil {
		return nil
	}
	return serviceError(err)
}

// Problem is err as the REST face answers it.
func (g gqlCallers) Problem(err error) graphql.Problem {
	p := asProblem(err)
	out := graphql.Problem{Code: strings.TrimPrefix(p.Type, problemBase), Status: p.Status, Title: p.Title, Detail: p.Detail,
		RetryAfter: p.RetryAfter}
	for _, fe := range p.Errors {
		out.Fields = append(out.Fields, measure.FieldError{Field: fe.Field, Detail: fe.Detail})
	}
	return out
}

// PutCheck is createCheck and replaceCheck for an admin caller: the REST
// routes' own code (checkedit.go).
func (g gqlCallers) PutCheck(ctx context.Context, c graphql.Caller, id string, definition []byte) (monitor.CheckView, error) {
	if err := gqlAdmin(c); err != nil {
		return monitor.CheckView{}, err
	}
	return g.s.putCheck(ctx, id, definition)
}

// DeleteCheck is deleteCheck for an admin caller.
func (g gqlCallers) DeleteCheck(ctx context.Context, c graphql.Caller, id string) error {
	if err := gqlAdmin(c); err != nil {
		return err
	}
	return g.s.removeCheck(ctx, id)
}

// RunCheck is runCheck for an admin caller.
func (g gqlCallers) RunCheck(_ context.Context, c graphql.Caller, id string) (bool, error) {
	if err := gqlAdmin(c); err != nil {
		return false, err
	}
	return g.s.runCheckNow(id)
}

// gqlAdmin refuses a GraphQL caller without an admin key as the admin
// routes do.
func gqlAdmin(c graphql.Caller) error {
	q, _ := c.Private.(queueOwner)
	return requireAdmin(q.key)
}

// graphiQL answers a browser's GET /graphql with the page shell; the
// script shows the GraphQL explorer.
func (s *Server) graphiQL(w http.ResponseWriter, r *http.Request) {
	s.serveBundle(w, r, "index.html", "no-cache")
}
