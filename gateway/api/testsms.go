package api

import (
	"context"
	"net/http"

	"vigie/gateway/apitype"
)

// TestBackend sends the operators' test SMS.
type TestBackend interface {
	SendTest(ctx context.Context, req apitype.TestRequest, author string) (apitype.TestResult, error)
}

func (s *Server) testRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/alerts/test", s.sendTest)
}

func (s *Server) sendTest(w http.ResponseWriter, r *http.Request) {
	var req apitype.TestRequest
	if !s.decode(w, r, &req) {
		return
	}
	res, err := s.backend.SendTest(r.Context(), req, author(r))
	s.reply(w, res, err)
}
