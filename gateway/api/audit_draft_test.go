package api_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"vigie/gateway/api"
	"vigie/gateway/apitype"
	"vigie/gateway/client"
)

// inTx is an auditLog whose alert changes record themselves, as the
// gateway's do in the store's transaction: from the draft the API put in
// the context. It counts the records the API appends after a change.
type inTx struct {
	auditLog
	late atomic.Int32
}

func (b *inTx) AppendAudit(r apitype.AuditRecord) (apitype.AuditRecord, error) {
	b.late.Add(1)
	return b.auditLog.AppendAudit(r)
}

// recordWith appends d's record of a change answered with answer, as the
// change's transaction would.
func (b *inTx) recordWith(ctx context.Context, answer any) {
	d := apitype.AuditDraftFrom(ctx)
	if d == nil {
		return
	}
	rec, _ := b.auditLog.AppendAudit(d.Record(answer))
	d.Recorded(rec)
}

func (b *inTx) SendAlert(ctx context.Context, req apitype.AlertRequest, author string) (apitype.Alert, error) {
	a, err := b.auditLog.SendAlert(ctx, req, author)
	if err == nil {
		b.recordWith(ctx, a)
	}
	return a, err
}

func (b *inTx) CancelAlert(ctx context.Context, id uint64, author string) (apitype.CancelResult, error) {
	res, err := b.auditLog.CancelAlert(ctx, id, author)
	if err == nil {
		b.recordWith(ctx, res)
	}
	return res, err
}

// A route whose change records itself gets exactly one record, the same as
// the API would have written after the change; a route that does not is
// still recorded by the API.
func TestChangeRecordedWithItselfOnce(t *testing.T) {
	after, with := &auditLog{}, &inTx{}
	ctx := context.Background()
	for _, b := range []api.Backend{after, with} {
		c := client.New(serve(t, b))
		if _, err := c.SendAlert(ctx, apitype.AlertRequest{Zones: []string{"macon"}, Text: "faux billets, appelez le 06 12 34 56 78"}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CancelAlert(ctx, 99); err == nil {
			t.Fatal("cancel of a missing alert succeeded")
		}
		if _, err := c.CancelAlert(ctx, 12); err != nil {
			t.Fatal(err)
		}
	}
	if n := with.late.Load(); n != 0 {
		t.Errorf("the API appended %d records after changes that recorded themselves, want 0", n)
	}
	got, _ := with.Audit(time.Time{})
	want, _ := after.Audit(time.Time{})
	if len(got) != 2 || len(want) != 2 {
		t.Fatalf("records: %d with the change, %d after it; want 2 each (alert, cancel)", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d written with the change =\n%+v\nafter it =\n%+v", i+1, got[i], want[i])
		}
	}

	// A converted backend that did not use the draft (a call the route's
	// backend could not record, e.g. a dry run) is recorded by the API.
	b := &inTx{}
	b.recordWith(ctx, nil) // no draft outside a request: nothing happens
	c := client.New(serve(t, &withoutDraft{inTx: b}))
	if _, err := c.CancelAlert(ctx, 12); err != nil {
		t.Fatal(err)
	}
	if recs, _ := b.Audit(time.Time{}); len(recs) != 1 || b.late.Load() != 1 || recs[0].Result != "cancelled=31" {
		t.Errorf("records %+v, %d appended by the API; want one, by the API", recs, b.late.Load())
	}
}

// withoutDraft cancels without recording itself.
type withoutDraft struct{ *inTx }

func (b *withoutDraft) CancelAlert(ctx context.Context, id uint64, author string) (apitype.CancelResult, error) {
	return b.auditLog.CancelAlert(ctx, id, author)
}
