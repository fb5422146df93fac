package gateway

import (
	"context"
	"errors"
	"fmt"

	"vigie/gateway/apitype"
	"vigie/store"
)

// Inbox lists the shopkeepers' SMS kept for the operators, newest first.
func (g *Gateway) Inbox() ([]apitype.InboxMessage, error) {
	es, err := g.store.InboxEntries()
	if err != nil {
		return nil, fmt.Errorf("list inbox: %w", err)
	}
	out := make([]apitype.InboxMessage, 0, len(es))
	for _, e := range es {
		out = append(out, g.inboxView(e))
	}
	return out, nil
}

// InboxMessage returns one inbox entry.
func (g *Gateway) InboxMessage(id uint64) (apitype.InboxMessage, error) {
	e, err := g.store.InboxEntry(id)
	if errors.Is(err, store.ErrNotFound) {
		return apitype.InboxMessage{}, apitype.NotFound("message %d introuvable dans la boîte de réception", id)
	}
	if err != nil {
		return apitype.InboxMessage{}, fmt.Errorf("read inbox entry %d: %w", id, err)
	}
	return g.inboxView(e), nil
}

// MarkRead marks an inbox entry read by author, with its audit record in
// the same transaction; reading it again changes nothing but is recorded.
func (g *Gateway) MarkRead(ctx context.Context, id uint64, author string) (apitype.InboxMessage, error) {
	au := g.operatorAudit(ctx)
	e, rec, err := g.store.MarkReadAudited(id, g.now(), func(e store.InboxEntry) *store.AuditRecord {
		return au.record(g.inboxView(e))
	})
	if errors.Is(err, store.ErrNotFound) {
		return apitype.InboxMessage{}, apitype.NotFound("message %d introuvable dans la boîte de réception", id)
	}
	if err != nil {
		return apitype.InboxMessage{}, fmt.Errorf("mark inbox entry %d read: %w", id, err)
	}
	au.stored(rec)
	g.log.Info("inbox message read", "id", id, "author", author)
	return g.inboxView(e), nil
}

func (g *Gateway) inboxView(e store.InboxEntry) apitype.InboxMessage {
	v := apitype.InboxMessage{
		ID: e.ID, From: e.From, FromKind: g.senderKind(e.From, e.FromKind), Text: e.Text, ReceivedAt: e.ReceivedAt,
		Outcome: e.Outcome, Read: e.Read(), ReadAt: e.ReadAt, Missing: e.Missing, Parts: e.Parts,
		AlertID: e.AlertID,
	}
	if e.AlertID != 0 {
		// Alerts are never purged; a failed read only loses the date.
		if a, err := g.store.Alert(e.AlertID); err == nil {
			v.AlertCreatedAt = a.CreatedAt
		} else {
			g.log.Warn("read the alert of a witness reply", "alert", e.AlertID, "err", err)
		}
	}
	return v
}
