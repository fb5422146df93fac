package gateway

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"vigie/gateway/api"
	"vigie/gateway/apitype"
	"vigie/gateway/client"
	"vigie/store"
)

// lateAudit is the gateway as the API sees it, counting the records the
// API appends after a change: those the change did not write itself.
type lateAudit struct {
	*Gateway
	late atomic.Int32
}

func (b *lateAudit) AppendAudit(r apitype.AuditRecord) (apitype.AuditRecord, error) {
	b.late.Add(1)
	return b.Gateway.AppendAudit(r)
}

// serveAPI serves b's API on a socket in dir and returns a client of it.
func serveAPI(t *testing.T, b api.Backend, dir string) *client.Client {
	t.Helper()
	path := filepath.Join(dir, "vigie.sock")
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
	return client.New(path)
}

// operatorChanges makes one change by every converted route through c,
// on a gateway with the "approval" policy; it returns the alert's id, the
// read inbox entry's and how many messages the cancel cancelled.
func operatorChanges(t *testing.T, g *Gateway, st *store.Store, c *client.Client, late func() int32) (alert, said uint64, cancelled int) {
	t.Helper()
	ctx := context.Background()
	const shop, other, witness = "+33611111111", "+33622222222", "+33633333333"
	receiveSMS(t, g, st, shop, "INSCRIPTION macon")
	said = receiveSMS(t, g, st, witness, "Je l'ai vu partir vers la gare")

	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := c.ApproveSubscriber(ctx, "06 11 11 11 11")
	must("approve", err)
	_, err = c.AddSubscriber(ctx, apitype.AddSubscriberRequest{Phone: "06 22 22 22 22", Zones: []string{"macon"}})
	must("add", err)
	csv := []byte("tel;zone\n0644444444;macon\n")
	before := late()
	_, err = c.ImportSubscribers(ctx, apitype.ImportRequest{Data: csv, DryRun: true})
	must("import --dry-run", err)
	if n := late() - before; n != 1 {
		t.Errorf("for a dry-run import the API appended %d records, want 1 (a dry run changes nothing: the API records it)", n)
	}
	_, err = c.ImportSubscribers(ctx, apitype.ImportRequest{Data: csv})
	must("import", err)
	a, err := c.SendAlert(ctx, apitype.AlertRequest{Zones: []string{"macon"}, Text: "vol à l'étalage, appelez le 06 99 99 99 99"})
	must("alert", err)
	_, err = c.FollowUp(ctx, a.ID, "fin d'alerte")
	must("follow-up", err)
	res, err := c.CancelAlert(ctx, a.ID)
	must("cancel", err)
	_, err = c.MarkRead(ctx, said)
	must("inbox read", err)
	_, err = c.SendTest(ctx, apitype.TestRequest{To: "06 55 55 55 55"})
	must("test SMS", err)
	_, err = c.RemoveSubscriber(ctx, other, false)
	must("remove", err)
	_, err = c.RemoveSubscriber(ctx, "0644444444", true)
	must("erase", err)
	// A refused change records nothing, either way.
	if _, err := c.CancelAlert(ctx, 999); err == nil {
		t.Fatal("cancel of a missing alert succeeded")
	}
	return a.ID, said, res.Cancelled
}

// Every operator change whose change is one store transaction writes its
// audit record in that transaction: exactly one record per change, none
// appended afterwards by the API, the chain intact.
func TestOperatorChangesRecordThemselvesOnce(t *testing.T) {
	g, st, dir := newGateway(t, "approval")
	b := &lateAudit{Gateway: g}
	c := serveAPI(t, b, dir)
	ctx := context.Background()
	alert, said, cancelled := operatorChanges(t, g, st, c, b.late.Load)
	a := apitype.Alert{ID: alert}

	if n := b.late.Load(); n != 1 {
		t.Errorf("the API appended %d records after the changes, want only the dry run's", n)
	}
	recs, err := c.Audit(ctx, g.now().AddDate(-1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	var ops []apitype.AuditRecord
	for _, r := range recs {
		if r.User != "sms" {
			ops = append(ops, r)
		}
	}
	want := []struct{ action, target, result string }{
		{"POST /v1/subscribers/{phone}/approve", "** ** ** ** 11", `phone="+33*******11"`},
		{"POST /v1/subscribers", "", `outcome="added"`},
		{"POST /v1/subscribers/import", "", "dry_run=true"},
		{"POST /v1/subscribers/import", "", "dry_run=false"},
		{"POST /v1/alerts", "", fmt.Sprintf("id=%d ", a.ID)},
		{"POST /v1/alerts/{id}/followup", fmt.Sprint(a.ID), fmt.Sprintf("id=%d ", a.ID+1)},
		{"POST /v1/alerts/{id}/cancel", fmt.Sprint(a.ID), fmt.Sprintf("cancelled=%d", cancelled)},
		{"POST /v1/inbox/{id}/read", fmt.Sprint(said), fmt.Sprintf("id=%d ", said)},
		{"POST /v1/alerts/test", "", `state="queued"`},
		{"POST /v1/subscribers/{phone}/remove", "+33*******22", "cancelled="},
		{"POST /v1/subscribers/{phone}/remove", "********44", "erased=true"},
	}
	if len(ops) != len(want) {
		t.Fatalf("%d operator records, want %d (one per change): %+v", len(ops), len(want), ops)
	}
	for i, w := range want {
		r := ops[i]
		if r.Action != w.action || r.Target != w.target || !strings.Contains(r.Result, w.result) || r.User == "" || r.Time.IsZero() {
			t.Errorf("record %d = %+v; want %s on %q with result containing %q", i+1, r, w.action, w.target, w.result)
		}
		if strings.Contains(r.Request+r.Result+r.Target, "99 99 99") || strings.Contains(r.Result, "+3362222") {
			t.Errorf("record %d keeps a phone number: %+v", i+1, r)
		}
	}
	if !strings.Contains(ops[4].Request, "vol à l'étalage") || !strings.Contains(ops[4].Result, "recipients=3 counts.queued=3") {
		t.Errorf("alert's record: request %q, result %q; want its text and 3 recipients queued", ops[4].Request, ops[4].Result)
	}
	if v, err := c.VerifyAudit(ctx); err != nil || !v.OK || v.Records != len(recs) {
		t.Errorf("verify = %+v, %v; want intact with %d records", v, err, len(recs))
	}
}

// afterOnly is the gateway with its changes hidden from the API's drafts:
// the API records every change after it, as it did before changes
// recorded themselves.
type afterOnly struct{ *lateAudit }

func hide(ctx context.Context) context.Context { return apitype.WithAuditDraft(ctx, nil) }

func (b afterOnly) AddSubscriber(ctx context.Context, req apitype.AddSubscriberRequest, author string) (apitype.AddSubscriberResult, error) {
	return b.Gateway.AddSubscriber(hide(ctx), req, author)
}

func (b afterOnly) ApproveSubscriber(ctx context.Context, number, author string) (apitype.Subscriber, error) {
	return b.Gateway.ApproveSubscriber(hide(ctx), number, author)
}

func (b afterOnly) RemoveSubscriber(ctx context.Context, number string, erase bool, author string) (apitype.RemoveSubscriberResult, error) {
	return b.Gateway.RemoveSubscriber(hide(ctx), number, erase, author)
}

func (b afterOnly) ImportSubscribers(ctx context.Context, req apitype.ImportRequest, author string) (apitype.ImportReport, error) {
	return b.Gateway.ImportSubscribers(hide(ctx), req, author)
}

func (b afterOnly) SendAlert(ctx context.Context, req apitype.AlertRequest, author string) (apitype.Alert, error) {
	return b.Gateway.SendAlert(hide(ctx), req, author)
}

func (b afterOnly) FollowUp(ctx context.Context, id uint64, text, author string) (apitype.Alert, error) {
	return b.Gateway.FollowUp(hide(ctx), id, text, author)
}

func (b afterOnly) CancelAlert(ctx context.Context, id uint64, author string) (apitype.CancelResult, error) {
	return b.Gateway.CancelAlert(hide(ctx), id, author)
}

func (b afterOnly) MarkRead(ctx context.Context, id uint64, author string) (apitype.InboxMessage, error) {
	return b.Gateway.MarkRead(hide(ctx), id, author)
}

func (b afterOnly) SendTest(ctx context.Context, req apitype.TestRequest, author string) (apitype.TestResult, error) {
	return b.Gateway.SendTest(hide(ctx), req, author)
}

// A record written with its change says what the record the API wrote
// after it said: `vigie audit` shows the same (no modem runs here, so the
// alert's counts do not move between the commit and the answer).
func TestRecordWithTheChangeSameAsAfterIt(t *testing.T) {
	records := func(hideDrafts bool) []apitype.AuditRecord {
		g, st, dir := newGateway(t, "approval")
		b := &lateAudit{Gateway: g}
		var backend api.Backend = b
		if hideDrafts {
			backend = afterOnly{b}
		}
		operatorChanges(t, g, st, serveAPI(t, backend, dir), b.late.Load)
		if n := b.late.Load(); (n == 11) != hideDrafts {
			t.Errorf("hidden drafts %v: the API appended %d records after changes", hideDrafts, n)
		}
		recs, err := g.Audit(g.now().AddDate(-1, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	with, after := records(false), records(true)
	if len(with) != len(after) {
		t.Fatalf("%d records written with the changes, %d after them", len(with), len(after))
	}
	for i := range with {
		w, a := with[i], after[i]
		if w.Seq != a.Seq || w.User != a.User || w.UID != a.UID || w.Action != a.Action || w.Label != a.Label ||
			w.Target != a.Target || w.Request != a.Request || w.Result != a.Result {
			t.Errorf("record %d written with its change =\n%+v\nafter it =\n%+v", i+1, w, a)
		}
	}
}
