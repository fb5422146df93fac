package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"vigie/gateway/apitype"
)

// AlertBackend composes, queues and reports alerts.
type AlertBackend interface {
	PreviewAlert(req apitype.AlertRequest) (apitype.Preview, error)
	SendAlert(ctx context.Context, req apitype.AlertRequest, author string) (apitype.Alert, error)
	Alert(id uint64) (apitype.AlertReport, error)
	// AlertSummary is the alert with its counts, without its messages:
	// what a progress loop polls (GET /v1/alerts/{id}?counts=1).
	AlertSummary(id uint64) (apitype.Alert, error)
	Alerts() ([]apitype.Alert, error)
	FollowUp(ctx context.Context, id uint64, text, author string) (apitype.Alert, error)
	PreviewFollowUp(id uint64, text string) (apitype.Preview, error)
	CancelAlert(ctx context.Context, id uint64, author string) (apitype.CancelResult, error)
}

func (s *Server) alertRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/alerts/preview", s.previewAlert)
	mux.HandleFunc("POST /v1/alerts", s.sendAlert)
	mux.HandleFunc("GET /v1/alerts", s.listAlerts)
	mux.HandleFunc("GET /v1/alerts/{id}", s.showAlert)
	mux.HandleFunc("POST /v1/alerts/{id}/followup", s.followUp)
	mux.HandleFunc("POST /v1/alerts/{id}/followup/preview", s.previewFollowUp)
	mux.HandleFunc("POST /v1/alerts/{id}/cancel", s.cancelAlert)
}

func (s *Server) previewAlert(w http.ResponseWriter, r *http.Request) {
	var req apitype.AlertRequest
	if !s.decode(w, r, &req) {
		return
	}
	p, err := s.backend.PreviewAlert(req)
	if err == nil && p.Fingerprint != "" {
		// The recipient list's version, as HTTP says it: a client may send
		// it back in If-Match instead of the body's fingerprint.
		w.Header().Set("ETag", `"`+p.Fingerprint+`"`)
	}
	s.reply(w, p, err)
}

func (s *Server) sendAlert(w http.ResponseWriter, r *http.Request) {
	var req apitype.AlertRequest
	if !s.decode(w, r, &req) {
		return
	}
	if m := strings.Trim(r.Header.Get("If-Match"), `" `); req.Fingerprint == "" && m != "" && m != "*" {
		req.Fingerprint = m
	}
	a, err := s.backend.SendAlert(r.Context(), req, author(r))
	s.reply(w, a, err)
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	as, err := s.backend.Alerts()
	s.reply(w, as, err)
}

func (s *Server) showAlert(w http.ResponseWriter, r *http.Request) {
	id, ok := s.alertID(w, r)
	if !ok {
		return
	}
	if r.URL.Query().Get("counts") == "1" {
		// Counts only: a progress loop polling each second must not
		// read and send every message of the alert each time.
		a, err := s.backend.AlertSummary(id)
		s.reply(w, a, err)
		return
	}
	a, err := s.backend.Alert(id)
	s.reply(w, a, err)
}

func (s *Server) followUp(w http.ResponseWriter, r *http.Request) {
	id, ok := s.alertID(w, r)
	if !ok {
		return
	}
	var req apitype.FollowUpRequest
	if !s.decode(w, r, &req) {
		return
	}
	a, err := s.backend.FollowUp(r.Context(), id, req.Text, author(r))
	s.reply(w, a, err)
}

func (s *Server) previewFollowUp(w http.ResponseWriter, r *http.Request) {
	id, ok := s.alertID(w, r)
	if !ok {
		return
	}
	var req apitype.FollowUpRequest
	if !s.decode(w, r, &req) {
		return
	}
	p, err := s.backend.PreviewFollowUp(id, req.Text)
	s.reply(w, p, err)
}

func (s *Server) cancelAlert(w http.ResponseWriter, r *http.Request) {
	id, ok := s.alertID(w, r)
	if !ok {
		return
	}
	res, err := s.backend.CancelAlert(r.Context(), id, author(r))
	s.reply(w, res, err)
}

// alertID reads the {id} of an alert route, answering 400 if it is not one.
func (s *Server) alertID(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	return s.pathID(w, r, "identifiant d'alerte invalide : %q")
}

// pathID reads the {id} of a route, answering 400 with the French message
// bad (which quotes the value) if it is not a number.
func (s *Server) pathID(w http.ResponseWriter, r *http.Request, bad string) (uint64, bool) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		s.reply(w, nil, apitype.Invalid(bad, r.PathValue("id")))
		return 0, false
	}
	return id, true
}
