package gateway

import (
	"context"
	"fmt"
	"time"

	"vigie/gateway/apitype"
	"vigie/store"
)

// AppendAudit records a change made through the API, dated now, chained to
// the previous record; the API's audit middleware calls it after a
// successful change that did not record itself (opAudit).
func (g *Gateway) AppendAudit(r apitype.AuditRecord) (apitype.AuditRecord, error) {
	rec, err := g.store.AppendAudit(store.AuditRecord{
		Time: g.now(), User: r.User, UID: r.UID,
		Action: r.Action, Label: r.Label, Target: r.Target,
		Request: r.Request, Result: r.Result,
	})
	if err != nil {
		return apitype.AuditRecord{}, fmt.Errorf("audit: %w", err)
	}
	g.anchorAudit(rec)
	return auditRecord(rec), nil
}

// anchorAudit writes each record's number and hash to the journal: a copy
// of the chain outside the database, so that rewriting or cutting the
// chain in the database (which its own hashes cannot show) can be seen by
// comparing with the journal.
func (g *Gateway) anchorAudit(rec store.AuditRecord) {
	g.log.Info("audit record", "component", "audit", "seq", rec.Seq, "hash", rec.Hash, "user", rec.User, "action", rec.Action)
}

// Audit lists the audit records dated since or later, oldest first.
func (g *Gateway) Audit(since time.Time) ([]apitype.AuditRecord, error) {
	recs, err := g.store.Audit(since)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	out := make([]apitype.AuditRecord, len(recs))
	for i, r := range recs {
		out[i] = auditRecord(r)
	}
	return out, nil
}

// VerifyAudit checks the audit log's hash chain.
func (g *Gateway) VerifyAudit() (apitype.AuditCheck, error) {
	c, err := g.store.VerifyAudit()
	if err != nil {
		return apitype.AuditCheck{}, fmt.Errorf("audit: %w", err)
	}
	return apitype.AuditCheck{
		Records: c.Records, OK: c.OK(), From: c.From, PurgedThrough: c.PurgedThrough,
		Broken: c.Broken, Reason: c.Reason,
	}, nil
}

func auditRecord(r store.AuditRecord) apitype.AuditRecord {
	return apitype.AuditRecord{
		Seq: r.Seq, Time: r.Time, User: r.User, UID: r.UID,
		Action: r.Action, Label: r.Label, Target: r.Target,
		Request: r.Request, Result: r.Result, Prev: r.Prev, Hash: r.Hash,
	}
}

// opAudit is the audit of an operator's change made through the API: the
// API's draft record, finished and appended by the store in the change's
// own transaction, so that no crash or disk fault between the two leaves a
// change with no record. A nil *opAudit records nothing (a call not made
// through the API); its methods may be called on it.
type opAudit struct {
	g *Gateway
	d *apitype.AuditDraft
}

// operatorAudit returns the audit of the change ctx carries a draft for.
func (g *Gateway) operatorAudit(ctx context.Context) *opAudit {
	d := apitype.AuditDraftFrom(ctx)
	if d == nil {
		return nil
	}
	return &opAudit{g: g, d: d}
}

// record finishes the record of the change whose answer to the operator is
// answer, dated now, for the store to append in the change's transaction;
// nil for no record.
func (a *opAudit) record(answer any) *store.AuditRecord {
	if a == nil {
		return nil
	}
	r := a.d.Record(answer)
	return &store.AuditRecord{
		Time: a.g.now(), User: r.User, UID: r.UID,
		Action: r.Action, Label: r.Label, Target: r.Target,
		Request: r.Request, Result: r.Result,
	}
}

// stored tells the API that rec, as the store committed it, records the
// change (the API then appends none), and anchors it in the journal. A
// zero rec (nothing appended, e.g. a dry run) leaves the API to record.
func (a *opAudit) stored(rec store.AuditRecord) {
	if a == nil || rec.Seq == 0 {
		return
	}
	a.g.anchorAudit(rec)
	a.d.Recorded(auditRecord(rec))
}
