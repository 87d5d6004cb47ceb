package server

import (
	"net/http"

	"github.com/dnsscience/dnsscience/internal/roots"
)

// rootServerList is the answer of /api/v1/root-servers and
// /root_servers.json.
type rootServerList struct {
	RootServers []roots.Server `json:"root_servers"`
}

// rootServerRoutes serve the shipped root server data; measurements of
// which instance answers are the roots kind (POST /api/v1/measurements).
func (s *Server) rootServerRoutes() []route {
	h := s.handle
	return []route{
		{method: "GET", pattern: "/api/v1/root-servers", handler: h(s.getRootServers)},
		// The file name the platform this replaces served for its map.
		{method: "GET", pattern: "/root_servers.json", handler: h(s.getRootServers)},
	}
}

func (s *Server) getRootServers(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, rootServerList{RootServers: roots.Shipped()})
	return nil
}
