package gateway

import (
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
		out = append(out, inboxView(e))
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
	return inboxView(e), nil
}

// MarkRead marks an inbox entry read by author; reading it again changes
// nothing.
func (g *Gateway) MarkRead(id uint64, author string) (apitype.InboxMessage, error) {
	e, err := g.store.MarkRead(id, g.now())
	if errors.Is(err, store.ErrNotFound) {
		return apitype.InboxMessage{}, apitype.NotFound("message %d introuvable dans la boîte de réception", id)
	}
	if err != nil {
		return apitype.InboxMessage{}, fmt.Errorf("mark inbox entry %d read: %w", id, err)
	}
	g.log.Info("inbox message read", "id", id, "author", author)
	return inboxView(e), nil
}

func inboxView(e store.InboxEntry) apitype.InboxMessage {
	return apitype.InboxMessage{
		ID: e.ID, From: e.From, Text: e.Text, ReceivedAt: e.ReceivedAt,
		Outcome: e.Outcome, Read: e.Read(), ReadAt: e.ReadAt,
	}
}
