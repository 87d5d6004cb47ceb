package server

import (
	"fmt"
	"net/http"
	"strings"
)

// route is one entry of the route table.
type route struct {
	method, pattern string
	handler         http.Handler
	// undocumented routes (the catch-all) are left out of OpenAPI.
	undocumented bool
}

// routeTable lists every route the server answers. The OpenAPI description
// (openapi.yaml) must describe exactly these; a test checks.
func (s *Server) routeTable() []route {
	h := s.handle
	api := []route{
		{method: "GET", pattern: "/health", handler: h(s.getHealth)},
		{method: "GET", pattern: "/ready", handler: h(s.getReady)},
		{method: "GET", pattern: "/metrics", handler: s.metrics.handler()},
		{method: "GET", pattern: "/api/openapi.json", handler: h(s.getOpenAPI)},

		{method: "GET", pattern: "/api/v1/dns/{name}/{type}", handler: h(s.limited("dns", s.getDNS))},
		{method: "GET", pattern: "/api/v1/resolvers", handler: h(s.getResolvers)},
		{method: "GET", pattern: "/api/v1/locations", handler: h(s.getLocations)},
		{method: "GET", pattern: "/api/v1/kinds", handler: h(s.getKinds)},
		{method: "GET", pattern: "/api/v1/geo/about", handler: h(s.getGeoAbout)},
		{method: "GET", pattern: "/api/v1/geo/{addr}", handler: h(s.limited("geo", s.getGeo))},
		{method: "POST", pattern: "/api/v1/measurements", handler: h(s.postMeasurement)},
		{method: "GET", pattern: "/api/v1/measurements", handler: h(s.listMeasurements)},
		{method: "GET", pattern: "/api/v1/measurements/{id}", handler: h(s.getMeasurement)},
		{method: "GET", pattern: "/api/v1/measurements/{id}/stream", handler: h(s.streamMeasurement)},

		{method: "GET", pattern: "/api/v1/admin/apikeys", handler: h(s.admin(s.listAPIKeys))},
		{method: "DELETE", pattern: "/api/v1/admin/apikeys/{id}", handler: h(s.admin(s.revokeAPIKey))},
		{method: "GET", pattern: "/api/v1/admin/agents", handler: h(s.admin(s.listAgents))},
		{method: "POST", pattern: "/api/v1/admin/agents", handler: h(s.admin(s.addAgent))},
		{method: "DELETE", pattern: "/api/v1/admin/agents/{name}", handler: h(s.admin(s.revokeAgent))},
		{method: "GET", pattern: "/api/v1/agents/connect", handler: h(s.connectAgent)},

		// Routes of the platform this replaces.
		{method: "GET", pattern: "/api/remote-locations", handler: h(s.getRemoteLocations)},
		{method: "GET", pattern: "/api/scan/{domain}", handler: h(s.limited("scan", s.getScan))},
		{method: "GET", pattern: "/api/compare", handler: h(s.limited("scan", s.getCompare))},
	}
	api = append(api, s.checkRoutes()...)
	api = append(api, s.snapshotRoutes()...)
	api = append(api, s.rootServerRoutes()...)
	api = append(api, s.alertRoutes()...)
	api = append(api, s.graphqlRoutes()...)
	api = append(api, s.uiRoutes()...)
	return append(api, route{pattern: "/", undocumented: true, handler: h(s.noRoute)})
}

// noRoute answers what no route matched: 405 with Allow when the path
// exists for other methods, else 404.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) error {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		s.uiNotFound(w, r) // a browser gets the HTML 404 page
		return nil
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	return &Problem{Type: problemBase + "method-not-allowed", Title: "Method not allowed", Status: http.StatusMethodNotAllowed,
		Detail: fmt.Sprintf("%s is not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(allow, ", "))}
}

func (s *Server) routes() {
	for _, rt := range s.routeTable() {
		p := rt.pattern
		if rt.method != "" {
			p = rt.method + " " + p
		}
		s.mux.Handle(p, rt.handler)
	}
}
