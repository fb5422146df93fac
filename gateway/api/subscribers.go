package api

import (
	"net/http"

	"vigie/gateway/apitype"
)

// SubscriberBackend manages the shopkeepers' subscriptions.
type SubscriberBackend interface {
	Subscribers() ([]apitype.Subscriber, error)
}

func (s *Server) subscriberRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/subscribers", s.listSubscribers)
}

func (s *Server) listSubscribers(w http.ResponseWriter, r *http.Request) {
	subs, err := s.backend.Subscribers()
	s.reply(w, subs, err)
}
