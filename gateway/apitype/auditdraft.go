package apitype

import (
	"context"
	"sync"
)

// AuditDraft is the audit record of an operator's change as the API knows
// it before the change is made: who asks, by which route, for what. The
// API puts it in the request's context (WithAuditDraft). A backend whose
// change is one store transaction finishes the record there (Record) and
// has its store append it in that same transaction, then says so
// (Recorded): the change and its record commit together or not at all, so
// a crash or a disk fault cannot leave a change with no record. A draft
// that no backend used is appended by the API after the change, as before.
type AuditDraft struct {
	base    AuditRecord
	request func() string
	result  func(answer any) string

	mu     sync.Mutex
	stored *AuditRecord
}

// NewAuditDraft drafts the record base (User, UID, Action, Label, Target
// set). request summarises the request's body: it is called when the
// record is finished, once the handler has read the body. result
// summarises an answer the way the API would summarise it as sent.
func NewAuditDraft(base AuditRecord, request func() string, result func(answer any) string) *AuditDraft {
	return &AuditDraft{base: base, request: request, result: result}
}

// Record finishes the record of the change whose answer to the operator is
// answer (the value the route replies with): Request and Result filled;
// Time, Seq, Prev and Hash are left to the backend and its store.
func (d *AuditDraft) Record(answer any) AuditRecord {
	r := d.base
	if d.request != nil {
		r.Request = d.request()
	}
	if d.result != nil {
		r.Result = d.result(answer)
	}
	return r
}

// Recorded notes that rec, as stored, records the change: the API must not
// append another.
func (d *AuditDraft) Recorded(rec AuditRecord) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stored = &rec
}

// Stored returns the record a backend appended with the change, if any.
func (d *AuditDraft) Stored() (AuditRecord, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stored == nil {
		return AuditRecord{}, false
	}
	return *d.stored, true
}

// auditDraftKey keys the draft in a request's context.
type auditDraftKey struct{}

// WithAuditDraft returns ctx carrying d.
func WithAuditDraft(ctx context.Context, d *AuditDraft) context.Context {
	return context.WithValue(ctx, auditDraftKey{}, d)
}

// AuditDraftFrom returns the draft ctx carries, or nil: a call not made
// through the API, or by a route that records nothing.
func AuditDraftFrom(ctx context.Context) *AuditDraft {
	d, _ := ctx.Value(auditDraftKey{}).(*AuditDraft)
	return d
}
