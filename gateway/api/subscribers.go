package api

import (
	"context"
	"encoding/json"
	"net/http"

	"vigie/gateway/apitype"
)

// SubscriberBackend manages the shopkeepers' subscriptions. Numbers are
// passed as the operator typed them; the backend normalises them.
type SubscriberBackend interface {
	ListSubscribers(f apitype.SubscriberFilter) ([]apitype.Subscriber, error)
	ShowSubscriber(number string) (apitype.SubscriberDetail, error)
	AddSubscriber(ctx context.Context, req apitype.AddSubscriberRequest, author string) (apitype.AddSubscriberResult, error)
	ApproveSubscriber(ctx context.Context, number, author string) (apitype.Subscriber, error)
	RemoveSubscriber(ctx context.Context, number string, erase bool, author string) (apitype.RemoveSubscriberResult, error)
	ImportSubscribers(ctx context.Context, req apitype.ImportRequest, author string) (apitype.ImportReport, error)
}

// maxImportBody bounds an import request: a spreadsheet of every shop of a
// département is well under a megabyte, base64 makes it a third larger.
const maxImportBody = 16 << 20

func (s *Server) subscriberRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/subscribers", s.listSubscribers)
	mux.HandleFunc("POST /v1/subscribers", s.addSubscriber)
	mux.HandleFunc("POST /v1/subscribers/import", s.importSubscribers)
	mux.HandleFunc("GET /v1/subscribers/{phone}", s.showSubscriber)
	mux.HandleFunc("POST /v1/subscribers/{phone}/approve", s.approveSubscriber)
	mux.HandleFunc("POST /v1/subscribers/{phone}/remove", s.removeSubscriber)
}

func (s *Server) listSubscribers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	subs, err := s.backend.ListSubscribers(apitype.SubscriberFilter{
		Zone: q.Get("zone"), Trade: q.Get("trade"), Status: q.Get("status"),
	})
	s.reply(w, subs, err)
}

func (s *Server) showSubscriber(w http.ResponseWriter, r *http.Request) {
	d, err := s.backend.ShowSubscriber(r.PathValue("phone"))
	s.reply(w, d, err)
}

func (s *Server) addSubscriber(w http.ResponseWriter, r *http.Request) {
	var req apitype.AddSubscriberRequest
	if !s.decode(w, r, &req) {
		return
	}
	res, err := s.backend.AddSubscriber(r.Context(), req, author(r))
	s.reply(w, res, err)
}

func (s *Server) approveSubscriber(w http.ResponseWriter, r *http.Request) {
	sub, err := s.backend.ApproveSubscriber(r.Context(), r.PathValue("phone"), author(r))
	s.reply(w, sub, err)
}

func (s *Server) removeSubscriber(w http.ResponseWriter, r *http.Request) {
	var req apitype.RemoveSubscriberRequest
	if !s.decode(w, r, &req) {
		return
	}
	res, err := s.backend.RemoveSubscriber(r.Context(), r.PathValue("phone"), req.Erase, author(r))
	s.reply(w, res, err)
}

// importSubscribers reads its larger body itself: s.decode caps at 1 MiB.
func (s *Server) importSubscribers(w http.ResponseWriter, r *http.Request) {
	var req apitype.ImportRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxImportBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, apitype.Error{Error: "requête d'import illisible ou trop grande : " + err.Error()})
		return
	}
	rep, err := s.backend.ImportSubscribers(r.Context(), req, author(r))
	s.reply(w, rep, err)
}
