// Package client is the CLI's side of the local API: typed calls over the
// daemon's Unix socket.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os/user"
	"strconv"
	"syscall"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/french"
)

// ErrUnreachable: nothing answers on the socket (daemon stopped, wrong path).
// Its text is French: the CLI shows it inside its own sentence.
var ErrUnreachable = errors.New("démon injoignable")

// ErrPermission: the daemon refused this user, or the socket's permissions
// did not let it connect. The error carrying it is a *PermissionError.
var ErrPermission = errors.New("accès refusé")

// PermissionError is a refusal, with the French message that says why and
// what to do; it matches ErrPermission.
type PermissionError struct {
	Message string
}

func (e *PermissionError) Error() string { return e.Message }

// Is makes errors.Is(err, ErrPermission) true.
func (e *PermissionError) Is(target error) bool { return target == ErrPermission }

// Client talks to one daemon.
type Client struct {
	socket string
	http   *http.Client
}

// New returns a client for the daemon listening on socket.
func New(socket string) *Client {
	return &Client{
		socket: socket,
		http: &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", socket)
			},
		}},
	}
}

// PreviewAlert asks what an alert would do.
func (c *Client) PreviewAlert(ctx context.Context, req apitype.AlertRequest) (apitype.Preview, error) {
	var p apitype.Preview
	return p, c.do(ctx, http.MethodPost, "/v1/alerts/preview", req, &p)
}

// SendAlert queues an alert and returns it once it is durably accepted.
func (c *Client) SendAlert(ctx context.Context, req apitype.AlertRequest) (apitype.Alert, error) {
	var a apitype.Alert
	return a, c.do(ctx, http.MethodPost, "/v1/alerts", req, &a)
}

// Alert returns an alert's report.
func (c *Client) Alert(ctx context.Context, id uint64) (apitype.AlertReport, error) {
	var a apitype.AlertReport
	return a, c.do(ctx, http.MethodGet, "/v1/alerts/"+strconv.FormatUint(id, 10), nil, &a)
}

// AlertSummary returns alert id with its counts, without its messages.
func (c *Client) AlertSummary(ctx context.Context, id uint64) (apitype.Alert, error) {
	var a apitype.Alert
	return a, c.do(ctx, http.MethodGet, "/v1/alerts/"+strconv.FormatUint(id, 10)+"?counts=1", nil, &a)
}

// FollowUp sends a follow-up to the recipients of alert id.
func (c *Client) FollowUp(ctx context.Context, id uint64, text string) (apitype.Alert, error) {
	var a apitype.Alert
	return a, c.do(ctx, http.MethodPost, "/v1/alerts/"+strconv.FormatUint(id, 10)+"/followup", apitype.FollowUpRequest{Text: text}, &a)
}

// PreviewFollowUp says what a follow-up of alert id would do.
func (c *Client) PreviewFollowUp(ctx context.Context, id uint64, text string) (apitype.Preview, error) {
	var p apitype.Preview
	return p, c.do(ctx, http.MethodPost, "/v1/alerts/"+strconv.FormatUint(id, 10)+"/followup/preview", apitype.FollowUpRequest{Text: text}, &p)
}

// CancelAlert cancels what of alert id is not yet being sent.
func (c *Client) CancelAlert(ctx context.Context, id uint64) (apitype.CancelResult, error) {
	var res apitype.CancelResult
	return res, c.do(ctx, http.MethodPost, "/v1/alerts/"+strconv.FormatUint(id, 10)+"/cancel", struct{}{}, &res)
}

// Alerts lists alerts, newest first.
func (c *Client) Alerts(ctx context.Context) ([]apitype.Alert, error) {
	var as []apitype.Alert
	return as, c.do(ctx, http.MethodGet, "/v1/alerts", nil, &as)
}

// Status returns the daemon's health.
func (c *Client) Status(ctx context.Context) (apitype.Status, error) {
	var s apitype.Status
	return s, c.do(ctx, http.MethodGet, "/v1/status", nil, &s)
}

// requestTimeout bounds one request of the CLI to the daemon.
const requestTimeout = time.Minute

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("préparer la requête %s %s : %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	if _, ok := ctx.Deadline(); !ok {
		// A daemon that accepts the connection but never answers (hung)
		// must not hang the operator's terminal.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, requestTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://vigie"+path, body)
	if err != nil {
		return fmt.Errorf("préparer la requête %s %s : %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.roundTrip(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return fmt.Errorf("pas de réponse en %s sur %s, le démon est peut-être bloqué : %w", french.Duration(requestTimeout), c.socket, ErrUnreachable)
		}
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("réponse illisible du démon à %s %s (le démon et ce vigie sont-ils de la même version ? vigie --version, dpkg -s vigie) : %w", method, path, err)
	}
	return nil
}

// roundTrip sends req and returns the daemon's 200 answer, or the error
// every command reports the same way: permission (the socket or the daemon
// refused us, exit 4), unreachable (exit 3), or the daemon's French refusal.
func (c *Client) roundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			if errors.Is(err, fs.ErrPermission) {
				// The socket is 0660 in group vigie: the kernel refused
				// before the daemon could tell who we are.
				name := "$USER"
				if u, err := user.Current(); err == nil {
					name = u.Username
				}
				return nil, &PermissionError{Message: fmt.Sprintf(
					"le socket %s est réservé à root et au groupe vigie ; un administrateur peut vous y ajouter : usermod -aG vigie %s (puis reconnectez-vous)",
					c.socket, name)}
			}
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return nil, fmt.Errorf("le socket %s n'existe pas : %w", c.socket, ErrUnreachable)
			case errors.Is(err, syscall.ECONNREFUSED):
				return nil, fmt.Errorf("personne n'écoute sur le socket %s : %w", c.socket, ErrUnreachable)
			}
			return nil, fmt.Errorf("connexion au socket %s impossible (%v) : %w", c.socket, op.Err, ErrUnreachable)
		}
		return nil, fmt.Errorf("échange avec le démon interrompu (%s %s) : %w", req.Method, req.URL.Path, err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	var e apitype.Error
	_ = json.NewDecoder(resp.Body).Decode(&e)
	if e.Error == "" {
		e.Error = resp.Status
	}
	if resp.StatusCode == http.StatusForbidden {
		return nil, &PermissionError{Message: e.Error}
	}
	return nil, &apitype.UserError{Kind: apitype.RefusalOf(resp.StatusCode), Status: resp.StatusCode, Message: e.Error}
}
