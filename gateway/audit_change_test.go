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

// Every operator change whose change is one store transaction writes its
// audit record in that transaction: exactly one record per change, none
// appended afterwards by the API, the chain intact.
func TestOperatorChangesRecordThemselvesOnce(t *testing.T) {
	g, st, dir := newGateway(t, "approval")
	b := &lateAudit{Gateway: g}
	c := serveAPI(t, b, dir)
	ctx := context.Background()
	const shop, other, witness = "+33611111111", "+33622222222", "+33633333333"
	receiveSMS(t, g, st, shop, "INSCRIPTION macon")
	said := receiveSMS(t, g, st, witness, "Je l'ai vu partir vers la gare")

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
	_, err = c.ImportSubscribers(ctx, apitype.ImportRequest{Data: csv, DryRun: true})
	must("import --dry-run", err)
	if n := b.late.Load(); n != 1 {
		t.Errorf("after a dry-run import the API appended %d records, want 1 (a dry run changes nothing: the API records it)", n)
	}
	_, err = c.ImportSubscribers(ctx, apitype.ImportRequest{Data: csv})
	must("import", err)
	a, err := c.SendAlert(ctx, apitype.AlertRequest{Zones: []string{"macon"}, Text: "vol à l'étalage, appelez le 06 99 99 99 99"})
	must("alert", err)
	_, err = c.FollowUp(ctx, a.ID, "fin d'alerte")
	must("follow-up", err)
	cancelled, err := c.CancelAlert(ctx, a.ID)
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

	if n := b.late.Load(); n != 1 {
		t.Errorf("the API appended %d records after the changes, want only the dry run's", n)
	}
	recs, err := c.Audit(ctx, g.now().AddDate(-1, 0, 0))
	must("audit", err)
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
		{"POST /v1/alerts/{id}/cancel", fmt.Sprint(a.ID), fmt.Sprintf("cancelled=%d", cancelled.Cancelled)},
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
