// Package api serves the daemon's local API: HTTP+JSON on a Unix socket.
// Every connection is identified by its peer credentials (SO_PEERCRED): only
// root, the service user and the members of the vigie group may use it
// (auth.go), and every change they make is recorded, with their name, in
// the hash-chained audit log (audit.go).
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"vigie/gateway/apitype"
)

// Backend is what the API exposes; *gateway.Gateway implements it. Each
// part, with its routes, lives in its own file.
type Backend interface {
	AlertBackend
	SubscriberBackend
	StatusBackend
	InboxBackend
	ZoneBackend
	TestBackend
	AuditBackend
	BackupBackend
	ReportBackend
}

// Server is the HTTP server on the socket.
type Server struct {
	backend Backend
	log     *slog.Logger
	srv     *http.Server
	group   string // members may use the API (auth.go)
	self    int    // the daemon's uid: the service user
	lim     limits // what one client may hold (limit.go)
}

// New builds a server for backend.
func New(backend Backend, log *slog.Logger, opts ...Option) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{backend: backend, log: log.With("component", "api"), group: DefaultGroup, self: os.Getuid(), lim: defaultLimits}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	s.alertRoutes(mux)
	s.subscriberRoutes(mux)
	s.statusRoutes(mux)
	s.inboxRoutes(mux)
	s.zoneRoutes(mux)
	s.testRoutes(mux)
	s.auditRoutes(mux)
	s.backupRoutes(mux)
	s.reportRoutes(mux)
	s.srv = &http.Server{
		Handler:           refuseBrowsers(s.authorize(mux, s.audited(mux))),
		ConnContext:       s.connContext,
		ReadHeaderTimeout: s.lim.readHeader,
		ReadTimeout:       s.lim.read,
		WriteTimeout:      s.lim.write,
		IdleTimeout:       s.lim.idle,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	return s
}

// Listen creates the socket at path with mode 0660. A socket file left by a
// daemon that died is detected by dialling it and replaced; a live one is
// an error (another daemon is running).
func Listen(path string) (net.Listener, error) {
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("socket %s is in use: is another vigie daemon running?", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket: %w", err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o660); err != nil {
		l.Close()
		return nil, fmt.Errorf("chmod socket: %w", err)
	}
	return l, nil
}

// Serve answers on l until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	errc := make(chan error, 1)
	l = newLimitListener(l, s.lim, func(refused int) {
		s.log.Warn("API connections refused: too many at once", "refused", refused, "max", s.lim.conns, "max_per_user", s.lim.connsPerUser)
	})
	go func() { errc <- s.srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("api: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.srv.Shutdown(sctx)
		<-errc
		return err
	}
}

// refuseBrowsers: a web page must not drive the daemon through a proxy to
// the socket; browsers always send Origin or Referer, the CLI never does.
func refuseBrowsers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" || r.Header.Get("Referer") != "" {
			writeJSON(w, http.StatusForbidden, apitype.Error{Error: "requête de navigateur refusée"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(w, http.StatusBadRequest, apitype.Error{Error: "requête illisible pour le démon (ce vigie et le démon sont-ils de la même version ? vigie --version, dpkg -s vigie) : " + err.Error()})
		return false
	}
	return true
}

// reply writes v, or the error: a UserError with its status and French
// message, anything else as a 500 that is logged here, once.
func (s *Server) reply(w http.ResponseWriter, v any, err error) {
	if err == nil {
		writeJSON(w, http.StatusOK, v)
		return
	}
	var ue *apitype.UserError
	if errors.As(err, &ue) {
		writeJSON(w, httpStatus(ue.Kind), apitype.Error{Error: ue.Message})
		return
	}
	// The cause is for the technician, in the journal; the operator gets
	// what happened and the next step, in French (the cause is English
	// and may name files and keys).
	s.log.Error("request failed", "err", err)
	writeJSON(w, http.StatusInternalServerError, apitype.Error{Error: internalError})
}

// httpStatus is the one place an engine refusal becomes an HTTP status.
func httpStatus(k apitype.Refusal) int {
	switch k {
	case apitype.RefuseInvalid:
		return http.StatusBadRequest
	case apitype.RefuseNotFound:
		return http.StatusNotFound
	case apitype.RefuseConflict:
		return http.StatusConflict
	case apitype.RefuseTargetChanged:
		return apitype.StatusTargetChanged
	}
	return http.StatusInternalServerError
}

// internalError is what the operator reads of a failure of the daemon.
const internalError = "erreur interne du démon (la cause est dans le journal : journalctl -u vigie -e). " +
	"Vérifiez l'état (vigie status) puis réessayez ; si l'erreur revient, appelez le technicien."

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
