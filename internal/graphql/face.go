// Package graphql is the GraphQL face of the server: /graphql over the same
// measurement service as the REST API (internal/runner), with the REST
// face's identity, rate limits and error reasons. Resolvers decode,
// authorise, call the service and encode; they hold no measurement logic.
//
// The schema is schema.graphqls (by hand) and kinds.graphqls (the option
// input types, generated from the registry by `go generate`); gqlgen
// generates the executable schema (generated.go, models_gen.go).
package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/monitor"
	"github.com/dnsscience/dnsscience/internal/runner"
)

// Caller is who asks, as the REST face identifies it.
type Caller struct {
	// Owner is what measurements are stored and listed under ("key:ID",
	// "web:HASH"); empty for an anonymous caller without a client token.
	Owner string
	// Private is the REST face's own view of the caller (key, limit key,
	// quota scale), handed back to it untouched.
	Private any
}

// Problem is an error as the REST face reports it (RFC 9457 fields).
type Problem struct {
	// Code is the problem type's last segment: validation, rate-limited,
	// target-refused, not-found, unauthorized, internal ...
	Code   string
	Status int
	Title  string
	Detail string
	Fields []measure.FieldError
	// RetryAfter is set on rate-limit refusals (seconds).
	RetryAfter int
}

// Callers is what the REST face lends: who calls, its rate limits, and
// how it explains errors. One implementation serves both faces, so a
// request counts the same and is refused with the same reason.
type Callers interface {
	// Caller identifies the caller of r; an error (a malformed, unknown or
	// revoked key) refuses the request.
	Caller(r *http.Request) (Caller, error)
	// EnsureOwner gives an anonymous caller without a token a new one
	// (a cookie and header on w) and returns it with Owner set.
	EnsureOwner(w http.ResponseWriter, c Caller) Caller
	// Limit counts one request of the rate-limit class against the
	// caller's quota (headers on w when w is not nil); a refusal is an error.
	Limit(w http.ResponseWriter, c Caller, class string) error
	// ServiceError maps the service's errors as the REST face does (field
	// errors, policy refusals, busy queues); others are returned as they are.
	ServiceError(err error) error
	// Problem describes any error as the REST face would answer it.
	Problem(err error) Problem
}

// CheckEditor changes the monitor's checks for an admin caller, exactly as
// the REST routes under /api/v1/checks do (same checks, same errors).
type CheckEditor interface {
	// PutCheck creates (id "") or replaces check id from its JSON
	// definition.
	PutCheck(ctx context.Context, c Caller, id string, definition []byte) (monitor.CheckView, error)
	DeleteCheck(ctx context.Context, c Caller, id string) error
	// RunCheck queues a run now; false when one is already queued.
	RunCheck(ctx context.Context, c Caller, id string) (bool, error)
}

// Options is what the face needs; zero values are documented defaults.
type Options struct {
	// Service is the measurement service. Required.
	Service *runner.Service
	// Callers is the REST face's identity and limits. Required.
	Callers Callers
	// Resolvers is the list propagation asks (the resolvers query).
	Resolvers []dnsq.Resolver
	// Geo answers the geo query; nil means no data.
	Geo func() *geo.DB
	// Monitor answers the checks queries and the checkStateChanges
	// subscription; nil means monitoring is off.
	Monitor *monitor.Monitor
	// Checks makes the admin's changes to checks (the REST face's own
	// code, admin key checked); nil refuses the check mutations.
	Checks CheckEditor
	// OriginPatterns may open subscriptions from other origins (the
	// server's CORS origins); the page's own origin always may.
	OriginPatterns []string
	// Timeout bounds a query or mutation; 0 means 30 s.
	Timeout time.Duration
	// MaxDepth bounds how deeply a query nests fields; 0 means 15 (the
	// standard introspection query is 13 deep).
	MaxDepth int
	// MaxComplexity bounds a query's complexity (each field 1, list
	// fields their size); 0 means 1000.
	MaxComplexity int
	// MaxSubscriptions bounds the subscriptions one WebSocket connection
	// holds at once (the server already caps a client's connections);
	// 0 means 32.
	MaxSubscriptions int
	// Log receives internal errors; nil discards them.
	Log *slog.Logger
}

// Face serves /graphql. Build it with New.
type Face struct {
	cfg Options
	srv *handler.Server
}

// New builds the face.
func New(cfg Options) (*Face, error) {
	if cfg.Service == nil || cfg.Callers == nil {
		return nil, errors.New("graphql: a service and callers are required")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxDepth == 0 {
		cfg.MaxDepth = 15
	}
	if cfg.MaxComplexity == 0 {
		cfg.MaxComplexity = 1000
	}
	if cfg.MaxSubscriptions == 0 {
		cfg.MaxSubscriptions = 32
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Geo == nil {
		cfg.Geo = func() *geo.DB { return nil }
	}
	f := &Face{cfg: cfg}
	srv := handler.New(NewExecutableSchema(Config{Resolvers: &Resolver{opt: &f.cfg}}))
	srv.AddTransport(transport.Websocket{
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{
			OriginPatterns: cfg.OriginPatterns}},
		KeepAlivePingInterval: 15 * time.Second,
		InitTimeout:           10 * time.Second,
		InitFunc:              f.initWS,
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.Use(depthLimit{max: cfg.MaxDepth})
	srv.Use(extension.FixedComplexityLimit(cfg.MaxComplexity))
	srv.SetErrorPresenter(f.presentError)
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		cfg.Log.ErrorContext(ctx, "graphql resolver panicked", "panic", v)
		return errors.New("internal error")
	})
	f.srv = srv
	return f, nil
}

// request is what resolvers know of the HTTP request.
type request struct {
	w      http.ResponseWriter
	caller Caller
}

type requestKey struct{}

func fromContext(ctx context.Context) *request {
	if r, ok := ctx.Value(requestKey{}).(*request); ok {
		return r
	}
	return &request{}
}

// ServeHTTP answers /graphql: GraphQL over HTTP (GET, POST) and
// subscriptions over WebSocket (graphql-transport-ws).
func (f *Face) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := f.cfg.Callers.Caller(r)
	if err != nil {
		f.writeRefusal(w, r, err)
		return
	}
	ctx := context.WithValue(r.Context(), requestKey{}, &request{w: w, caller: c})
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		// A subscription lasts as long as its measurement: lift the
		// server's read and write deadlines (the protocol pings instead).
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
	} else {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.cfg.Timeout)
		defer cancel()
	}
	f.srv.ServeHTTP(w, r.WithContext(ctx))
}

// initWS accepts a WebSocket connection; the caller was identified from
// the upgrade request (cookie, X-Client-Token, Authorization or
// X-API-Key headers).
func (f *Face) initWS(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	return context.WithValue(ctx, subsKey{}, &subscriptions{max: f.cfg.MaxSubscriptions}), nil, nil
}

// subscriptions counts one connection's open subscriptions.
type subscriptions struct {
	max int
	n   atomic.Int32
}

type subsKey struct{}

// holdSubscription counts a new subscription against its connection's
// cap; release ends it. Outside a WebSocket connection nothing is counted.
func holdSubscription(ctx context.Context) (release func(), err error) {
	s, ok := ctx.Value(subsKey{}).(*subscriptions)
	if !ok {
		return func() {}, nil
	}
	if int(s.n.Add(1)) > s.max {
		s.n.Add(-1)
		return nil, &gqlerror.Error{Message: fmt.Sprintf("too many subscriptions: at most %d at once on one connection; complete one first", s.max),
			Extensions: map[string]any{"code": "TOO_MANY_SUBSCRIPTIONS"}}
	}
	return func() { s.n.Add(-1) }, nil
}

// writeRefusal answers a request refused before GraphQL ran (a bad API
// key) with the REST face's status and a GraphQL error body.
func (f *Face) writeRefusal(w http.ResponseWriter, r *http.Request, err error) {
	p := f.cfg.Callers.Problem(err)
	w.Header().Set("Content-Type", "application/graphql-response+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{problemError(r.Context(), p)}})
}

// Schema is the whole schema in the GraphQL schema language (published
// at /api/v1/schema.graphql).
func Schema() string {
	var b strings.Builder
	for _, s := range sources {
		b.WriteString(s.Input)
		if !strings.HasSuffix(s.Input, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}
