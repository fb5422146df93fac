package gateway

import (
	"fmt"
	"strings"

	"vigie/gateway/phone"
	"vigie/gateway/render"
	"vigie/store"
)

// forwardPrefix starts every forwarded witness reply. isAutomaticReply
// knows it, so a forward reaching another Vigie (or this one) is never
// tied, answered nor forwarded again.
const forwardPrefix = "Vigie renvoi"

// forwardText is the fixed frame of a forward: GSM-7 as written, so only
// the shop's name and its text may need transliteration. %d is the alert,
// the first %s the shop, the second its number as dialled.
const forwardText = forwardPrefix + " : réponse à l'alerte %d de %s (%s) : "

// forwardParts bounds a forward's length: the on-duty phone reads it at a
// glance, and the shop's whole text stays in the inbox.
const forwardParts = 2

// forwardEffect forwards a witness reply of number to the on-duty phones;
// the alert is known only in ApplyInbound's transaction.
func (g *Gateway) forwardEffect(number, text string) *store.Forward {
	shop, err := g.shopOf(number)
	if err != nil {
		g.log.Error("read the shop of a witness reply to forward", "err", err)
	}
	who := shop.name
	if who == "" {
		parts := []string{}
		if shop.trade != "" {
			parts = append(parts, shop.trade)
		}
		if len(shop.zones) > 0 {
			parts = append(parts, strings.Join(shop.zones, ", "))
		}
		who = strings.Join(parts, ", ")
	}
	if who == "" {
		who = "un non-abonné"
	}
	return &store.Forward{
		PerHour: g.cfg.Inbox.ForwardPerHour,
		About:   number,
		Build: func(alertID uint64) []store.Reply {
			body := forwardBody(fmt.Sprintf(forwardText, alertID, smsName(who), phone.Display(number)), text)
			out := make([]store.Reply, 0, len(g.cfg.Inbox.ForwardTo))
			for _, to := range g.cfg.Inbox.ForwardTo {
				out = append(out, store.Reply{To: to, Text: body.Body, Parts: body.Parts})
			}
			return out
		},
	}
}

// forwardBody is head + the shop's text (transliterated, so the forward
// stays GSM-7), cut with "..." to forwardParts SMS.
func forwardBody(head, text string) render.Text {
	text = render.Transliterate(strings.Join(strings.Fields(text), " "))
	full := render.Join(head, text, "")
	if cut := render.CutToFit(full, forwardParts); cut > 0 {
		runes := []rune(text)
		keep := max(len(runes)-render.CutToFit(head+text+"...", forwardParts), 0)
		full = head + string(runes[:keep]) + "..."
	}
	return render.Measure(full)
}
