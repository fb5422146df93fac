package gateway

import (
	"fmt"
	"strings"

	"vigie/gateway/config"

	"vigie/gateway/keyword"
	"vigie/gateway/phone"
	"vigie/gateway/render"
	"vigie/store"
)

// processUnhandled handles inbound SMS that were saved but not handled
// before the daemon stopped.
func (g *Gateway) processUnhandled() error {
	pending, err := g.store.Unprocessed()
	if err != nil {
		return fmt.Errorf("inbound SMS left unhandled: %w", err)
	}
	for _, in := range pending {
		g.handleInbound(in)
	}
	return nil
}

// handleInbound turns one complete inbound SMS into its effect — a
// subscription, a STOP, a reply, an inbox entry — applied in one
// transaction with marking the SMS handled.
func (g *Gateway) handleInbound(in store.Inbound) {
	e := g.effect(in)
	log := g.log.With("from", phone.Mask(in.From), "outcome", e.Outcome)
	if err := g.store.ApplyInbound(in.ID, e, g.now()); err != nil {
		// It stays unprocessed and is handled again at the next start.
		log.Error("apply inbound SMS", "id", in.ID, "err", err)
		return
	}
	log.Info("inbound SMS handled", "id", in.ID)
	if e.Reply != nil {
		g.wake()
	}
}

// effect decides what an inbound SMS does. It reads the store but changes
// nothing: ApplyInbound does, atomically.
func (g *Gateway) effect(in store.Inbound) store.Effect {
	cmd := keyword.Parse(in.Text)
	// Robots (alphanumeric senders, short codes) never get an automatic
	// reply: two automatons would answer each other forever.
	canReply := !phone.IsShortOrAlpha(in.From)
	number := in.From
	if canReply {
		if n, err := phone.Normalize(in.From, g.cfg.Station.Region); err == nil {
			number = n
		} else {
			canReply = false
		}
	}
	reply := func(text string) *store.Reply {
		if !canReply {
			return nil
		}
		// Always transliterated: one â would make the reply UCS-2 and
		// split it in two parts.
		r := render.Render("", text, "", true)
		return &store.Reply{To: number, Text: r.Body, Parts: r.Parts}
	}

	switch {
	case cmd.Kind == keyword.Empty:
		return store.Effect{Outcome: "empty"}
	case !canReply:
		return store.Effect{Outcome: "inbox", ToInbox: true}
	}

	switch cmd.Kind {
	case keyword.Subscribe:
		if len(cmd.Args) == 0 {
			return store.Effect{Outcome: "subscribe-no-zone", Reply: reply(zoneList(replyUnknown, g.zones.Zones()))}
		}
		z, ok := g.lookupZone(cmd.Args)
		if !ok {
			return store.Effect{Outcome: "subscribe-unknown-zone", Reply: reply(zoneList(replyUnknown, g.zones.Zones()))}
		}
		if g.cfg.Keywords.Subscription != "open" {
			// The confirm and approval policies are not built yet: the
			// request waits in the operators' inbox, nothing is activated.
			return store.Effect{Outcome: "subscribe-pending", ToInbox: true, Reply: reply(fmt.Sprintf(replyPending, z.Name))}
		}
		return store.Effect{
			Outcome:   "subscribed",
			Subscribe: &store.Subscription{Phone: number, Zone: z.ID, Source: "sms"},
			Reply:     reply(fmt.Sprintf(replySubscribed, z.Name)),
		}
	case keyword.Stop:
		r := reply(replyStopped)
		r.IgnoreSuppression = true // the one message a STOPped number still gets
		return store.Effect{Outcome: "stopped", Unsubscribe: number, Reply: r}
	case keyword.Help:
		return store.Effect{Outcome: "help", Reply: reply(replyHelp)}
	case keyword.ListZones:
		return store.Effect{Outcome: "zones", Reply: reply(zoneList(replyZones, g.zones.Zones()))}
	}
	return store.Effect{Outcome: "inbox", ToInbox: true, Reply: reply(replyForwarded)}
}

// lookupZone finds the zone named by the first words of args: "Mâcon
// Centre" is one zone name in two words.
func (g *Gateway) lookupZone(args []string) (config.Zone, bool) {
	for n := len(args); n >= 1; n-- {
		if z, ok := g.zones.Lookup(strings.Join(args[:n], " ")); ok {
			return z, true
		}
	}
	return config.Zone{}, false
}
