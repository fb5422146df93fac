package gateway

import (
	"fmt"

	"vigie/gateway/apitype"
)

// Subscribers lists every subscriber.
func (g *Gateway) Subscribers() ([]apitype.Subscriber, error) {
	subs, err := g.store.Subscribers()
	if err != nil {
		return nil, fmt.Errorf("list subscribers: %w", err)
	}
	out := make([]apitype.Subscriber, 0, len(subs))
	for _, s := range subs {
		out = append(out, apitype.Subscriber{
			Phone: s.Phone, Zones: s.Zones, Trade: s.Trade, Status: string(s.Status),
			Source: s.Source, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
		})
	}
	return out, nil
}
