package api

import (
	"net/http"
	"time"

	"vigie/gateway/apitype"
)

// ReportBackend sums up a period for `vigie rapport`.
type ReportBackend interface {
	Report(apitype.ReportQuery) (apitype.Report, error)
}

func (s *Server) reportRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/report", s.getReport)
}

// getReport answers ?from=YYYY-MM-DD&to=YYYY-MM-DD[&zone=ID…]: local days
// of the daemon, from its first instant to the first instant of to, which
// is not covered (the CLI turns its inclusive --to into the next day). Days,
// not instants, so that months and days are the daemon's, whatever the
// client's time zone.
func (s *Server) getReport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var rq apitype.ReportQuery
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &rq.From}, {"to", &rq.To}} {
		v := q.Get(p.name)
		if v == "" {
			s.reply(w, nil, apitype.Invalid("paramètre %s manquant (attendu : AAAA-MM-JJ)", p.name))
			return
		}
		t, err := time.ParseInLocation(time.DateOnly, v, time.Local)
		if err != nil {
			s.reply(w, nil, apitype.Invalid("date invalide pour %s : %q (attendu : AAAA-MM-JJ)", p.name, v))
			return
		}
		*p.t = t
	}
	rq.Zones = q["zone"]
	rep, err := s.backend.Report(rq)
	s.reply(w, rep, err)
}
