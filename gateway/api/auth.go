package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/user"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"

	"vigie/gateway/apitype"
)

// Who may use the API (SPEC §9, issue #5): the socket is 0660 in group
// vigie, and every connection is identified again from its peer
// credentials, so a socket left too open, or a user removed from the group
// who still can connect, is still refused. Root, the daemon's own user (the
// service account) and the members of the group have every right; anyone
// else reaches only the public routes, `vigie status` for a technician.

// DefaultGroup is the Unix group whose members may use the API.
const DefaultGroup = "vigie"

// publicRoutes answer every caller that can connect: they show the
// daemon's health and no personal data.
var publicRoutes = map[string]bool{
	"GET /v1/status": true,
}

// Option adjusts a Server built by New.
type Option func(*Server)

// WithGroup names the Unix group whose members may use the API (default
// DefaultGroup). A group that does not exist admits nobody but root and the
// service user.
func WithGroup(name string) Option {
	return func(s *Server) { s.group = name }
}

type peerKey struct{}

// peer is the Unix identity at the other end of a connection.
type peer struct {
	uid, gid, pid int
	name          string
	// allowed: the peer may use every route, not only the public ones.
	allowed bool
}

// connContext identifies the connection's peer from SO_PEERCRED and decides
// its rights, once per connection. A connection without credentials has no
// peer and no rights.
func (s *Server) connContext(ctx context.Context, c net.Conn) context.Context {
	cred, ok := peerCred(c)
	if !ok {
		return ctx
	}
	p := peer{uid: int(cred.Uid), gid: int(cred.Gid), pid: int(cred.Pid), name: "uid:" + strconv.Itoa(int(cred.Uid))}
	u, err := user.LookupId(strconv.Itoa(p.uid))
	if err == nil {
		p.name = u.Username
	}
	p.allowed = p.uid == 0 || p.uid == s.self
	if !p.allowed {
		p.allowed = s.member(p, u)
	}
	return context.WithValue(ctx, peerKey{}, p)
}

// member says whether p belongs to the API's group, as its primary group
// (the only one peer credentials carry) or one of its user's groups.
func (s *Server) member(p peer, u *user.User) bool {
	g, err := user.LookupGroup(s.group)
	if err != nil {
		s.log.Debug("API group not found: only root and the service user are allowed", "group", s.group, "err", err)
		return false
	}
	var ids []string
	if u != nil {
		if ids, err = u.GroupIds(); err != nil {
			s.log.Warn("cannot list the groups of a caller", "user", p.name, "err", err)
		}
	}
	return inGroup(g.Gid, p.gid, ids)
}

// inGroup says whether gid is the primary group or one of groupIDs.
func inGroup(gid string, primary int, groupIDs []string) bool {
	return gid == strconv.Itoa(primary) || slices.Contains(groupIDs, gid)
}

func peerCred(c net.Conn) (*unix.Ucred, bool) {
	if sc, ok := c.(*slotConn); ok {
		c = sc.Conn
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil, false
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil, false
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil || credErr != nil {
		return nil, false
	}
	return cred, true
}

func peerOf(r *http.Request) (peer, bool) {
	p, ok := r.Context().Value(peerKey{}).(peer)
	return p, ok
}

// author names the user behind r, as alerts and the audit record it.
func author(r *http.Request) string {
	if p, ok := peerOf(r); ok {
		return p.name
	}
	return "unknown"
}

// authorize answers 403, in French, to a caller without rights on anything
// but a public route; mux tells which route a request is for.
func (s *Server) authorize(mux *http.ServeMux, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := peerOf(r)
		if ok && p.allowed {
			h.ServeHTTP(w, r)
			return
		}
		if _, pattern := mux.Handler(r); publicRoutes[pattern] {
			h.ServeHTTP(w, r)
			return
		}
		msg := "identité de l'appelant inconnue"
		if ok {
			msg = fmt.Sprintf("l'utilisateur %s (uid %d) n'est pas membre du groupe %s ; un administrateur peut l'y ajouter : usermod -aG %s %s",
				p.name, p.uid, s.group, s.group, p.name)
		}
		s.log.Warn("request denied", "user", p.name, "uid", p.uid, "pid", p.pid, "method", r.Method, "path", r.URL.Path)
		writeJSON(w, http.StatusForbidden, apitype.Error{Error: msg})
	})
}
