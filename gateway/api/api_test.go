package api_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"

	"vigie/gateway/api"
	"vigie/gateway/apitype"
	"vigie/gateway/client"
)

// recorder is a Backend that records who asked; the gateway behind the real
// API is covered by the end-to-end tests.
type recorder struct {
	api.Backend // nil: parts these tests do not call
	author      string
	err         error
}

var _ api.Backend = (*recorder)(nil)

func (r *recorder) PreviewAlert(apitype.AlertRequest) (apitype.Preview, error) {
	return apitype.Preview{Recipients: 3}, r.err
}
func (r *recorder) SendAlert(_ context.Context, req apitype.AlertRequest, author string) (apitype.Alert, error) {
	r.author = author
	return apitype.Alert{ID: 7, Author: author, Text: req.Text}, r.err
}
func (r *recorder) Alert(id uint64) (apitype.AlertReport, error) {
	return apitype.AlertReport{}, apitype.NotFound("alerte %d introuvable", id)
}
func (r *recorder) Alerts() ([]apitype.Alert, error) { return nil, r.err }
func (r *recorder) FollowUp(_ context.Context, id uint64, text, author string) (apitype.Alert, error) {
	r.author = author
	return apitype.Alert{ID: id + 1, FollowUpOf: id, Author: author, Text: text}, r.err
}
func (r *recorder) CancelAlert(_ context.Context, id uint64, author string) (apitype.CancelResult, error) {
	r.author = author
	return apitype.CancelResult{Cancelled: int(id)}, r.err
}
func (r *recorder) Subscribers() ([]apitype.Subscriber, error) { return nil, r.err }
func (r *recorder) Status() (apitype.Status, error)            { return apitype.Status{State: "ready"}, r.err }

func serve(t *testing.T, b api.Backend) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vigie.sock")
	l, err := api.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- api.New(b, nil).Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return path
}

func TestAuthorComesFromPeerCredentials(t *testing.T) {
	b := &recorder{}
	c := client.New(serve(t, b))
	a, err := c.SendAlert(context.Background(), apitype.AlertRequest{Zones: []string{"macon"}, Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	want := "uid:" + strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil {
		want = u.Username
	}
	if a.Author != want || b.author != want {
		t.Errorf("author %q (backend saw %q), want %q", a.Author, b.author, want)
	}
}

func TestSocketModeAndStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.sock")
	// A socket file left by a daemon that died: nobody listens on it.
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	l, err = api.Listen(path)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	defer l.Close()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %v, %v; want 0660", fi.Mode().Perm(), err)
	}
	// A live one is another daemon: refused.
	if _, err := api.Listen(path); err == nil {
		t.Error("second Listen on a live socket succeeded")
	}
}

func TestBrowserRequestsAreRefused(t *testing.T) {
	path := serve(t, &recorder{})
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", path)
	}}}
	for _, h := range []string{"Origin", "Referer"} {
		req, _ := http.NewRequest(http.MethodGet, "http://vigie/v1/status", nil)
		req.Header.Set(h, "http://evil.example")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("with %s: status %d, want 403", h, resp.StatusCode)
		}
	}
}

func TestErrorsReachTheClientTyped(t *testing.T) {
	b := &recorder{err: apitype.Invalid("zone inconnue : %q", "x")}
	c := client.New(serve(t, b))
	_, err := c.PreviewAlert(context.Background(), apitype.AlertRequest{Text: "x"})
	var ue *apitype.UserError
	if !errors.As(err, &ue) || ue.Status != 400 || ue.Message != `zone inconnue : "x"` {
		t.Errorf("preview error %v, want the 400 with its French message", err)
	}
	if _, err := c.Alert(context.Background(), 9); !errors.As(err, &ue) || ue.Status != 404 {
		t.Errorf("missing alert: %v, want 404", err)
	}
	b.err = errors.New("disk on fire")
	// The operator reads what to do, in French; the English cause stays
	// in the journal.
	wantInternal := "erreur interne du démon (la cause est dans le journal : journalctl -u vigie -e). " +
		"Vérifiez l'état (vigie status) puis réessayez ; si l'erreur revient, appelez le technicien."
	if _, err := c.Status(context.Background()); !errors.As(err, &ue) || ue.Status != 500 || ue.Message != wantInternal {
		t.Errorf("internal error: %v, want 500 saying %q", err, wantInternal)
	}
	none := filepath.Join(t.TempDir(), "none.sock")
	if _, err := client.New(none).Status(context.Background()); !errors.Is(err, client.ErrUnreachable) ||
		err.Error() != "le socket "+none+" n'existe pas : démon injoignable" {
		t.Errorf("no daemon: %v, want ErrUnreachable saying the socket does not exist", err)
	}
	// A socket file nobody listens on (a daemon that died): refused.
	stale := filepath.Join(t.TempDir(), "stale.sock")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	if _, err := client.New(stale).Status(context.Background()); !errors.Is(err, client.ErrUnreachable) ||
		err.Error() != "personne n'écoute sur le socket "+stale+" : démon injoignable" {
		t.Errorf("stale socket: %v, want ErrUnreachable saying nobody listens", err)
	}
}
