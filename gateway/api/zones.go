package api

import (
	"net/http"

	"vigie/gateway/apitype"
)

// ZoneBackend lists the zones and trades with their subscriber counts.
type ZoneBackend interface {
	Zones() (apitype.Zones, error)
}

func (s *Server) zoneRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/zones", s.listZones)
}

func (s *Server) listZones(w http.ResponseWriter, r *http.Request) {
	zs, err := s.backend.Zones()
	s.reply(w, zs, err)
}
