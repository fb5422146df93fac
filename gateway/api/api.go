// Package api serves the daemon's local API: HTTP+JSON on a Unix socket.
// Every connection is identified by its peer credentials (SO_PEERCRED), so
// each alert records the Unix user who sent it.
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
	"os/user"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"vigie/gateway/apitype"
)

// Backend is what the API exposes; *gateway.Gateway implements it. Each
// part, with its routes, lives in its own file.
type Backend interface {
	AlertBackend
	SubscriberBackend
	StatusBackend
}

// Server is the HTTP server on the socket.
type Server struct {
	backend Backend
	log     *slog.Logger
	srv     *http.Server
}

// New builds a server for backend.
func New(backend Backend, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{backend: backend, log: log.With("component", "api")}
	mux := http.NewServeMux()
	s.alertRoutes(mux)
	s.subscriberRoutes(mux)
	s.statusRoutes(mux)
	s.srv = &http.Server{
		Handler:           refuseBrowsers(mux),
		ConnContext:       withPeer,
		ReadHeaderTimeout: 10 * time.Second,
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

type peerKey struct{}

// peer is the Unix identity at the other end of a connection.
type peer struct {
	uid, pid int
	name     string
}

func withPeer(ctx context.Context, c net.Conn) context.Context {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return ctx
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil || credErr != nil {
		return ctx
	}
	p := peer{uid: int(cred.Uid), pid: int(cred.Pid), name: "uid:" + strconv.Itoa(int(cred.Uid))}
	if u, err := user.LookupId(strconv.Itoa(p.uid)); err == nil {
		p.name = u.Username
	}
	return context.WithValue(ctx, peerKey{}, p)
}

func author(r *http.Request) string {
	if p, ok := r.Context().Value(peerKey{}).(peer); ok {
		return p.name
	}
	return "unknown"
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
		writeJSON(w, http.StatusBadRequest, apitype.Error{Error: "requête illisible : " + err.Error()})
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
		writeJSON(w, ue.Status, apitype.Error{Error: ue.Message})
		return
	}
	s.log.Error("request failed", "err", err)
	writeJSON(w, http.StatusInternalServerError, apitype.Error{Error: "erreur interne du démon : " + err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
