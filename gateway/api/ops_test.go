package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"vigie/gateway/api"
	"vigie/gateway/apitype"
	"vigie/gateway/client"
)

// opsBackend serves an inbox of two messages, the zones and test SMS.
type opsBackend struct {
	api.Backend // nil: what these tests do not call
	read        map[uint64]string
	test        apitype.TestRequest
	testAuthor  string
}

var received = time.Date(2026, 3, 14, 15, 4, 0, 0, time.UTC)

func (b *opsBackend) Inbox() ([]apitype.InboxMessage, error) {
	return []apitype.InboxMessage{{ID: 2, From: "+33611111111", Text: "vu", ReceivedAt: received, Outcome: "inbox"}, {ID: 1}}, nil
}

func (b *opsBackend) InboxMessage(id uint64) (apitype.InboxMessage, error) {
	if id != 2 {
		return apitype.InboxMessage{}, apitype.NotFound("message %d introuvable", id)
	}
	return apitype.InboxMessage{ID: 2, Text: "vu"}, nil
}

func (b *opsBackend) MarkRead(_ context.Context, id uint64, author string) (apitype.InboxMessage, error) {
	b.read[id] = author
	return apitype.InboxMessage{ID: id, Read: true}, nil
}

func (b *opsBackend) Zones() (apitype.Zones, error) {
	return apitype.Zones{Zones: []apitype.Zone{{ID: "macon", Reach: 3}}, Trades: []apitype.Trade{{ID: "tabac", Subscribers: 1}}}, nil
}

func (b *opsBackend) SendTest(_ context.Context, req apitype.TestRequest, author string) (apitype.TestResult, error) {
	b.test, b.testAuthor = req, author
	return apitype.TestResult{Message: apitype.Message{ID: 9, To: req.To, State: "queued"}, Text: req.Text, Parts: 1}, nil
}

func TestInboxZonesAndTestRoutes(t *testing.T) {
	b := &opsBackend{read: map[uint64]string{}}
	c := client.New(serve(t, b))
	ctx := context.Background()

	in, err := c.Inbox(ctx)
	if err != nil || len(in) != 2 || in[0].From != "+33611111111" || !in[0].ReceivedAt.Equal(received) {
		t.Errorf("Inbox = %+v, %v", in, err)
	}
	if m, err := c.InboxMessage(ctx, 2); err != nil || m.Text != "vu" {
		t.Errorf("InboxMessage(2) = %+v, %v", m, err)
	}
	var ue *apitype.UserError
	if _, err := c.InboxMessage(ctx, 3); !errors.As(err, &ue) || ue.Status != 404 || ue.Message != "message 3 introuvable" {
		t.Errorf("InboxMessage(3): %v, want the backend's 404", err)
	}
	m, err := c.MarkRead(ctx, 2)
	if err != nil || !m.Read || b.read[2] == "" || b.read[2] == "unknown" {
		t.Errorf("MarkRead = %+v, %v; backend saw author %q", m, err, b.read[2])
	}

	zs, err := c.Zones(ctx)
	if err != nil || len(zs.Zones) != 1 || zs.Zones[0].Reach != 3 || zs.Trades[0].ID != "tabac" {
		t.Errorf("Zones = %+v, %v", zs, err)
	}

	res, err := c.SendTest(ctx, apitype.TestRequest{To: "0612345678", Text: "essai"})
	if err != nil || res.ID != 9 || res.To != "0612345678" || b.test.Text != "essai" || b.testAuthor == "" || b.testAuthor == "unknown" {
		t.Errorf("SendTest = %+v, %v; backend got %+v from %q", res, err, b.test, b.testAuthor)
	}
}

func TestInboxIDMustBeANumber(t *testing.T) {
	path := serve(t, &opsBackend{})
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
	for _, p := range []string{"/v1/inbox/abc", "/v1/inbox/-1"} {
		resp, err := hc.Get("http://vigie" + p)
		if err != nil {
			t.Fatal(err)
		}
		var e apitype.Error
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(e.Error, "identifiant de message invalide") {
			t.Errorf("GET %s: %d %q, want 400 in French", p, resp.StatusCode, e.Error)
		}
	}
}
