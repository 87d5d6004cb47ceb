package server

import "net/http"

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

		// Routes of the platform this replaces.
		{method: "GET", pattern: "/api/remote-locations", handler: h(s.getRemoteLocations)},
		{method: "GET", pattern: "/api/scan/{domain}", handler: h(s.limited("scan", s.getScan))},
		{method: "GET", pattern: "/api/compare", handler: h(s.limited("scan", s.getCompare))},
	}
	api = append(api, s.uiRoutes()...)
	return append(api, route{pattern: "/", undocumented: true, handler: http.HandlerFunc(s.uiNotFound)})
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
