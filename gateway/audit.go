package gateway

import (
	"fmt"
	"time"

	"vigie/gateway/apitype"
	"vigie/store"
)

// AppendAudit records a change made through the API, dated now, chained to
// the previous record; the API's audit middleware calls it after every
// successful change.
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
	return apitype.AuditCheck{Records: c.Records, OK: c.OK(), Broken: c.Broken, Reason: c.Reason}, nil
}

func auditRecord(r store.AuditRecord) apitype.AuditRecord {
	return apitype.AuditRecord{
		Seq: r.Seq, Time: r.Time, User: r.User, UID: r.UID,
		Action: r.Action, Label: r.Label, Target: r.Target,
		Request: r.Request, Result: r.Result, Prev: r.Prev, Hash: r.Hash,
	}
}
