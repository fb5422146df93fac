package api

import (
	"context"
	"net/http"

	"vigie/gateway/apitype"
)

// InboxBackend keeps the shopkeepers' SMS the operators must read.
type InboxBackend interface {
	Inbox() ([]apitype.InboxMessage, error)
	InboxMessage(id uint64) (apitype.InboxMessage, error)
	MarkRead(ctx context.Context, id uint64, author string) (apitype.InboxMessage, error)
}

func (s *Server) inboxRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/inbox", s.listInbox)
	mux.HandleFunc("GET /v1/inbox/{id}", s.showInbox)
	mux.HandleFunc("POST /v1/inbox/{id}/read", s.readInbox)
}

func (s *Server) listInbox(w http.ResponseWriter, r *http.Request) {
	ms, err := s.backend.Inbox()
	s.reply(w, ms, err)
}

func (s *Server) showInbox(w http.ResponseWriter, r *http.Request) {
	id, ok := s.inboxID(w, r)
	if !ok {
		return
	}
	m, err := s.backend.InboxMessage(id)
	s.reply(w, m, err)
}

func (s *Server) readInbox(w http.ResponseWriter, r *http.Request) {
	id, ok := s.inboxID(w, r)
	if !ok {
		return
	}
	m, err := s.backend.MarkRead(r.Context(), id, author(r))
	s.reply(w, m, err)
}

// inboxID reads the {id} of an inbox route, answering 400 if it is not one.
func (s *Server) inboxID(w http.ResponseWriter, r *http.Request) (uint64, bool) {
	return s.pathID(w, r, "identifiant de message invalide : %q")
}
