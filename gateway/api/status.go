package api

import (
	"net/http"

	"vigie/gateway/apitype"
)

// StatusBackend reports the daemon's health.
type StatusBackend interface {
	Status() (apitype.Status, error)
}

func (s *Server) statusRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/status", s.status)
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	st, err := s.backend.Status()
	s.reply(w, st, err)
}
