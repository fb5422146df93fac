package api

import (
	"io"
	"net/http"
	"time"
)

// BackupBackend copies the database while the daemon runs.
type BackupBackend interface {
	// Backup writes a consistent copy of the database to w.
	Backup(w io.Writer, author string) (int64, error)
}

func (s *Server) backupRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/backup", s.backup)
}

// backup streams the copy as application/octet-stream. An error before
// the first byte is an ordinary error answer; after it, the status is
// gone, so the connection is cut and the client sees a truncated body
// rather than a copy that looks complete.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	cw := &countingWriter{w: w, rc: http.NewResponseController(w), timeout: s.lim.write}
	_, err := s.backend.Backup(cw, author(r))
	if err == nil {
		return
	}
	if cw.n == 0 {
		s.reply(w, nil, err)
		return
	}
	s.log.Error("backup cut short", "err", err, "bytes", cw.n)
	panic(http.ErrAbortHandler)
}

// countingWriter counts what went through to w. An empty write is not
// passed on: it would send the status line. Each write gets writeTimeout of
// its own: a large database streams as long as the client reads, a client
// that stops reading is cut off.
type countingWriter struct {
	w       io.Writer
	rc      *http.ResponseController
	timeout time.Duration
	n       int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.rc != nil {
		// Not every writer can (a test's recorder): then the server's
		// deadline holds.
		_ = c.rc.SetWriteDeadline(time.Now().Add(c.timeout))
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
