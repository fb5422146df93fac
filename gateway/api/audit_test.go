package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie/gateway/api"
	"vigie/gateway/apitype"
	"vigie/gateway/client"
)

// auditLog is a Backend with an in-memory audit log and alerts that can be
// sent and cancelled.
type auditLog struct {
	api.Backend // nil: what these tests do not call
	mu          sync.Mutex
	recs        []apitype.AuditRecord
	appendErr   error
}

func (b *auditLog) SendAlert(_ context.Context, req apitype.AlertRequest, author string) (apitype.Alert, error) {
	return apitype.Alert{ID: 12, Author: author, Text: req.Text, Recipients: 40, Parts: 2,
		CreatedAt: time.Now(), Counts: map[string]int{"queued": 40}}, nil
}

func (b *auditLog) PreviewAlert(apitype.AlertRequest) (apitype.Preview, error) {
	return apitype.Preview{Recipients: 40}, nil
}

func (b *auditLog) CancelAlert(_ context.Context, id uint64, _ string) (apitype.CancelResult, error) {
	if id != 12 {
		return apitype.CancelResult{}, apitype.NotFound("alerte %d introuvable", id)
	}
	return apitype.CancelResult{Cancelled: 31}, nil
}

func (b *auditLog) Alerts() ([]apitype.Alert, error) { return nil, nil }

func (b *auditLog) AppendAudit(r apitype.AuditRecord) (apitype.AuditRecord, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.appendErr != nil {
		return apitype.AuditRecord{}, b.appendErr
	}
	r.Seq = uint64(len(b.recs) + 1)
	b.recs = append(b.recs, r)
	return r, nil
}

func (b *auditLog) Audit(since time.Time) ([]apitype.AuditRecord, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]apitype.AuditRecord(nil), b.recs...), nil
}

func (b *auditLog) VerifyAudit() (apitype.AuditCheck, error) {
	return apitype.AuditCheck{Records: len(b.recs), OK: true}, nil
}

func me(t *testing.T) (string, int) {
	t.Helper()
	if u, err := user.Current(); err == nil {
		return u.Username, os.Getuid()
	}
	return "uid:" + strconv.Itoa(os.Getuid()), os.Getuid()
}

func TestChangesAreAuditedWithTheirUser(t *testing.T) {
	b := &auditLog{}
	c := client.New(serve(t, b))
	ctx := context.Background()
	name, uid := me(t)

	// Reads, previews and refused changes are not recorded.
	if _, err := c.Alerts(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PreviewAlert(ctx, apitype.AlertRequest{All: true, Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CancelAlert(ctx, 99); err == nil {
		t.Fatal("cancel of a missing alert succeeded")
	}
	if len(b.recs) != 0 {
		t.Fatalf("recorded %+v before any change", b.recs)
	}

	if _, err := c.SendAlert(ctx, apitype.AlertRequest{Zones: []string{"macon"}, Text: "faux billets, appelez le 06 12 34 56 78"}); err != nil {
		t.Fatal(err)
	}
	res, err := c.CancelAlert(ctx, 12)
	if err != nil || res.Cancelled != 31 {
		t.Fatalf("cancel = %+v, %v", res, err)
	}
	// The record is written before the answer: it is there at once.
	recs, err := c.Audit(ctx, time.Time{})
	if err != nil || len(recs) != 2 {
		t.Fatalf("audit = %+v, %v; want 2 records", recs, err)
	}
	want := []apitype.AuditRecord{
		{Seq: 1, User: name, UID: uid, Action: "POST /v1/alerts", Label: "envoi d'alerte",
			Request: `{"zones":["macon"],"text":"faux billets, appelez le ** ** ** ** 78"}`,
			Result:  `id=12 all=false parts=2 recipients=40 counts.queued=40 done=false`},
		{Seq: 2, User: name, UID: uid, Action: "POST /v1/alerts/{id}/cancel", Label: "annulation d'alerte",
			Target: "12", Result: "cancelled=31"},
	}
	for i := range want {
		if recs[i] != want[i] {
			t.Errorf("record %d =\n%+v\nwant\n%+v", i+1, recs[i], want[i])
		}
	}
}

func TestLostAuditRecordKeepsTheAnswer(t *testing.T) {
	b := &auditLog{appendErr: errors.New("disk full")}
	c := client.New(serve(t, b))
	// The cancel is done: the operator must be told so even though its
	// record could not be written (the daemon logs that error).
	if res, err := c.CancelAlert(context.Background(), 12); err != nil || res.Cancelled != 31 {
		t.Errorf("cancel = %+v, %v; want the backend's answer", res, err)
	}
	// A backend without an audit log at all (nil): same.
	r := &recorder{}
	if _, err := client.New(serve(t, r)).CancelAlert(context.Background(), 3); err != nil {
		t.Errorf("cancel with no audit backend: %v", err)
	}
}

func TestAuditSinceIsValidated(t *testing.T) {
	sock := serve(t, &auditLog{})
	c := client.New(sock)
	recs, err := c.Audit(context.Background(), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || recs == nil {
		t.Errorf("audit since a date = %v, %v; want an empty list", recs, err)
	}
	chk, err := c.VerifyAudit(context.Background())
	if err != nil || !chk.OK {
		t.Errorf("verify = %+v, %v", chk, err)
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	resp, err := hc.Get("http://vigie/v1/audit?since=hier")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e apitype.Error
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != 400 || !strings.Contains(e.Error, "date invalide") {
		t.Errorf("bad since: %d %+v %v, want a 400 « date invalide »", resp.StatusCode, e, err)
	}
}
