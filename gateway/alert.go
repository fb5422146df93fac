package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/french"
	"vigie/gateway/render"
	"vigie/gateway/suggest"
	"vigie/store"
)

// Categories of alerts (SPEC §5).
var categories = []string{"vol", "escroquerie", "fausse-monnaie", "autre"}

// plan is an alert worked out but not yet queued.
type plan struct {
	req        apitype.AlertRequest
	zones      []string // as asked, validated
	trades     []string // as asked, validated
	text       render.Text
	recipients []string
	byZone     []apitype.ZoneCount
	byTrade    []apitype.TradeCount
	// reach is how many recipients each zone of the tree reaches, when
	// resolve found them (nil for a follow-up: queue counts them then).
	reach map[string]int
}

// prepare validates a request and resolves its recipients. Refusals are
// UserErrors in French: the operator reads them.
func (g *Gateway) prepare(req apitype.AlertRequest) (plan, error) {
	p := plan{req: req}
	if strings.TrimSpace(req.Text) == "" {
		return p, apitype.Invalid("le texte de l'alerte est vide")
	}
	if req.Category == "" {
		p.req.Category = "autre"
	} else if !slices.Contains(categories, req.Category) {
		if c, ok := suggest.Nearest(req.Category, categories); ok {
			return p, apitype.Invalid("catégorie inconnue « %s » ; vouliez-vous dire « %s » ?", req.Category, c)
		}
		return p, apitype.Invalid("catégorie inconnue « %s » (possibles : %s)", req.Category, strings.Join(categories, ", "))
	}
	if req.All == (len(req.Zones) > 0) {
		return p, apitype.Invalid("indiquez au moins une zone (--zone) ou bien --all")
	}
	for _, id := range req.Zones {
		z, ok := g.zones.Lookup(id)
		if !ok {
			return p, g.unknownZone(id)
		}
		if !slices.Contains(p.zones, z.ID) {
			p.zones = append(p.zones, z.ID)
		}
	}

	for _, id := range req.Trades {
		tr, ok := g.trades.Lookup(id)
		if !ok {
			return p, g.unknownTrade(id)
		}
		if !slices.Contains(p.trades, tr.ID) {
			p.trades = append(p.trades, tr.ID)
		}
	}
	if err := p.render(g); err != nil {
		return p, err
	}

	if err := g.resolve(&p); err != nil {
		return p, err
	}
	if len(p.recipients) == 0 {
		return p, apitype.Invalid("aucun commerçant abonné dans cette cible : rien à envoyer")
	}
	return p, nil
}

// resolve finds the recipients of p in one subscriber scan — the union of
// the targeted zones with their sub-zones — and counts from that one list
// what each zone and each trade brings and how many each zone of the tree
// reaches (the alert's timeline): a shop in two targeted zones gets one SMS,
// counted in both.
func (g *Gateway) resolve(p *plan) error {
	var zones []string                // every targeted zone with its sub-zones
	expanded := map[string][]string{} // each targeted zone's own expansion
	for _, id := range p.zones {
		ids, err := g.zones.Expand([]string{id})
		if err != nil {
			return fmt.Errorf("resolve recipients: %w", err)
		}
		expanded[id] = ids
		zones = append(zones, ids...)
	}
	slices.Sort(zones)
	zones = slices.Compact(zones)
	subs, err := g.store.ActiveTargets(zones, p.trades, p.req.All)
	if err != nil {
		return fmt.Errorf("resolve recipients: %w", err)
	}
	p.recipients = make([]string, len(subs))
	for i, sub := range subs {
		p.recipients[i] = sub.Phone
	}
	if !p.req.All {
		p.byZone = make([]apitype.ZoneCount, 0, len(p.zones))
		for _, id := range p.zones {
			n := 0
			for _, sub := range subs {
				if slices.ContainsFunc(sub.Zones, func(z string) bool { return slices.Contains(expanded[id], z) }) {
					n++
				}
			}
			z, _ := g.zones.Zone(id)
			p.byZone = append(p.byZone, apitype.ZoneCount{Zone: id, Name: z.Name, Recipients: n})
		}
	}
	if len(p.trades) > 0 {
		p.byTrade = make([]apitype.TradeCount, 0, len(p.trades))
		for _, id := range p.trades {
			n := 0
			for _, sub := range subs {
				if sub.Trade == id {
					n++
				}
			}
			tr, _ := g.trades.Trade(id)
			p.byTrade = append(p.byTrade, apitype.TradeCount{Trade: id, Name: tr.Name, Recipients: n})
		}
	}
	p.reach = g.reachOf(subs)
	return nil
}

// render builds the final text and refuses one longer than max_parts.
func (p *plan) render(g *Gateway) error {
	sc := g.cfg.SMS
	p.text = render.Render(sc.Prefix, p.req.Text, sc.Signature, sc.Transliterate)
	if p.text.Parts > sc.MaxParts {
		return apitype.Invalid("texte trop long : %d SMS par destinataire (%s, %d caractères), le maximum est %d%s",
			p.text.Parts, p.text.Encoding, p.text.Chars, sc.MaxParts, lengthHint(p.text, sc.MaxParts))
	}
	return nil
}

// lengthHint tells the operator how to bring t within parts SMS: how many
// characters to remove and, in UCS-2, which characters force it.
func lengthHint(t render.Text, parts int) string {
	hint := " : retirez au moins " + french.Count(render.CutToFit(t.Body, parts), "caractère", "caractères")
	if t.Encoding == render.UCS2 {
		var quoted []string
		for _, r := range render.NonGSM(t.Body) {
			quoted = append(quoted, "« "+string(r)+" »")
		}
		hint += ", ou remplacez " + strings.Join(quoted, ", ") + " : hors de l'alphabet GSM, ils imposent l'UCS-2 (70 caractères par SMS au lieu de 160)"
	}
	return hint
}

// zoneRecipients resolves each zone with its sub-zones (and the trades, if
// any), counts what each contributes, and merges them: a shop in two
// targeted zones gets one SMS.
func (g *Gateway) zoneRecipients(zones, trades []string) ([]string, []apitype.ZoneCount, error) {
	var all []string
	byZone := make([]apitype.ZoneCount, 0, len(zones))
	for _, id := range zones {
		ids, err := g.zones.Expand([]string{id})
		if err != nil {
			return nil, nil, err
		}
		rs, err := g.store.ActiveRecipients(ids, trades, false)
		if err != nil {
			return nil, nil, err
		}
		z, _ := g.zones.Zone(id)
		byZone = append(byZone, apitype.ZoneCount{Zone: id, Name: z.Name, Recipients: len(rs)})
		all = append(all, rs...)
	}
	slices.Sort(all)
	return slices.Compact(all), byZone, nil
}

func (p plan) preview(g *Gateway) apitype.Preview {
	return apitype.Preview{
		Text:        p.text.Body,
		Encoding:    string(p.text.Encoding),
		Parts:       p.text.Parts,
		Chars:       p.text.Chars,
		Recipients:  len(p.recipients),
		ByZone:      p.byZone,
		ByTrade:     p.byTrade,
		ETASeconds:  g.eta(len(p.recipients) * p.text.Parts).Seconds(),
		Fingerprint: fingerprint(p.recipients),
	}
}

// fingerprint identifies a sorted recipient list: what a send checks
// against the preview the operator confirmed.
func fingerprint(recipients []string) string {
	h := sha256.New()
	for _, r := range recipients {
		h.Write([]byte(r))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// checkTarget refuses a send whose recipients are no longer those of the
// preview whose fingerprint it carries: a subscription, a STOP or a zone
// change between preview and confirmation is said, not sent silently.
func checkTarget(req apitype.AlertRequest, recipients []string) error {
	if req.Fingerprint == "" || req.Fingerprint == fingerprint(recipients) {
		return nil
	}
	now := french.Count(len(recipients), "destinataire", "destinataires")
	what := fmt.Sprintf("%s maintenant, %d à l'aperçu", now, req.Expected)
	switch {
	case req.Expected == 0:
		what = now + " maintenant"
	case req.Expected == len(recipients):
		what = fmt.Sprintf("toujours %s, mais pas les mêmes numéros", now)
	}
	return apitype.TargetChanged("la cible a changé depuis l'aperçu (%s : inscription, STOP ou zone modifiée entre-temps) ; rien n'est envoyé : vérifiez le nouvel aperçu et confirmez à nouveau", what)
}

// PreviewAlert says what an alert would do, without queuing anything.
func (g *Gateway) PreviewAlert(req apitype.AlertRequest) (apitype.Preview, error) {
	p, err := g.prepare(req)
	if err != nil {
		return apitype.Preview{}, err
	}
	return p.preview(g), nil
}

// SendAlert queues an alert: the alert and one message per recipient are
// committed in one transaction, with its audit record, before its id is
// returned.
func (g *Gateway) SendAlert(ctx context.Context, req apitype.AlertRequest, author string) (apitype.Alert, error) {
	p, err := g.prepare(req)
	if err != nil {
		return apitype.Alert{}, err
	}
	if err := checkTarget(req, p.recipients); err != nil {
		return apitype.Alert{}, err
	}
	return g.queue(ctx, p, 0, author)
}

// queue commits a prepared alert, its messages and the audit record of
// ctx's change, and wakes the senders.
func (g *Gateway) queue(ctx context.Context, p plan, followUpOf uint64, author string) (apitype.Alert, error) {
	au := g.operatorAudit(ctx)
	reach := p.reach
	if reach == nil {
		var err error
		if reach, err = g.zoneReach(p.recipients); err != nil {
			return apitype.Alert{}, fmt.Errorf("count recipients by zone: %w", err)
		}
	}
	a, rec, err := g.store.CreateAlertAudited(store.Alert{
		Author:         author,
		Category:       p.req.Category,
		Zones:          p.zones,
		Trades:         p.trades,
		All:            p.req.All,
		FollowUpOf:     followUpOf,
		Text:           p.req.Text,
		Rendered:       p.text.Body,
		Encoding:       string(p.text.Encoding),
		Parts:          p.text.Parts,
		ZoneRecipients: reach,
	}, p.recipients, g.now(), func(a store.Alert, counts map[store.State]int) *store.AuditRecord {
		return au.record(g.named(alertViewOf(a, counts)))
	})
	g.noteWrite(err)
	if err != nil {
		return apitype.Alert{}, fmt.Errorf("queue alert: %w", err)
	}
	au.stored(rec)
	g.log.Info("alert accepted", "alert", a.ID, "author", author, "zones", p.zones, "trades", p.trades,
		"all", p.req.All, "follow_up_of", followUpOf, "recipients", a.Recipients, "parts", a.Parts)
	g.wake()
	g.warnRecipients()
	return g.alertView(a)
}

// warnRecipients logs when the month's distinct recipients near the
// configured level: "unlimited" plans cap them and cut the line beyond.
func (g *Gateway) warnRecipients() {
	limit := g.cfg.SMS.MonthlyRecipientsWarn
	if limit == 0 {
		return
	}
	n, err := g.store.DistinctRecipients(g.now())
	if err != nil {
		g.log.Error("count this month's recipients", "err", err)
		return
	}
	if n >= limit*9/10 {
		g.log.Warn("distinct recipients this month near the plan's limit", "recipients", n, "limit", limit)
	}
}

// FollowUp sends a follow-up ("fin d'alerte": suspect arrested, false alarm)
// to exactly the recipients who received alert id, or still will (sent,
// delivered, or still queued: their follow-up is queued behind the alert)
// — not to whoever is in its zones now, nor to those whose message was
// cancelled, suppressed by STOP, failed or expired: telling a shop the end
// of an alert it never got only confuses it. STOP still holds: it is
// checked when each message is sent.
func (g *Gateway) FollowUp(ctx context.Context, id uint64, text, author string) (apitype.Alert, error) {
	p, _, err := g.prepareFollowUp(id, text)
	if err != nil {
		return apitype.Alert{}, err
	}
	return g.queue(ctx, p, id, author)
}

// PreviewFollowUp says what FollowUp would do, without queuing anything.
func (g *Gateway) PreviewFollowUp(id uint64, text string) (apitype.Preview, error) {
	p, missed, err := g.prepareFollowUp(id, text)
	if err != nil {
		return apitype.Preview{}, err
	}
	pv := p.preview(g)
	pv.Missed = missed
	msgs, err := g.store.AlertMessages(id)
	if err != nil {
		return apitype.Preview{}, fmt.Errorf("messages of alert %d: %w", id, err)
	}
	for _, m := range msgs {
		if m.State == store.StateQueued || m.State == store.StateSending {
			pv.Pending++
		}
	}
	return pv, nil
}

// prepareFollowUp plans a follow-up of alert id and says how many of its
// recipients it leaves out because they did not receive the alert.
func (g *Gateway) prepareFollowUp(id uint64, text string) (plan, int, error) {
	orig, err := g.store.Alert(id)
	if errors.Is(err, store.ErrNotFound) {
		return plan{}, 0, apitype.NotFound("alerte %d introuvable", id)
	}
	if err != nil {
		return plan{}, 0, fmt.Errorf("read alert %d: %w", id, err)
	}
	if strings.TrimSpace(text) == "" {
		return plan{}, 0, apitype.Invalid("le texte de la suite est vide")
	}
	p := plan{
		req:    apitype.AlertRequest{Zones: orig.Zones, Trades: orig.Trades, All: orig.All, Category: orig.Category, Text: text},
		zones:  orig.Zones,
		trades: orig.Trades,
	}
	if err := p.render(g); err != nil {
		return plan{}, 0, err
	}
	msgs, err := g.store.AlertMessages(id)
	if err != nil {
		return plan{}, 0, fmt.Errorf("recipients of alert %d: %w", id, err)
	}
	missed := 0
	for _, m := range msgs {
		if received(m.State) {
			p.recipients = append(p.recipients, m.To)
		} else {
			missed++
		}
	}
	if len(p.recipients) == 0 {
		return plan{}, 0, apitype.Invalid("personne n'a reçu l'alerte %d (%s, aucun SMS parti) : une suite n'aurait personne à prévenir ; voir vigie alert show %d", id, french.Count(missed, "destinataire", "destinataires"), id)
	}
	return p, missed, nil
}

// received says whether a message in state s reached, or left for, its
// recipient, or still may: a queued message leaves before the follow-up
// queued after it.
func received(s store.State) bool {
	switch s {
	case store.StateSent, store.StateDelivered, store.StateQueued, store.StateSending:
		return true
	}
	return false
}

// CancelAlert cancels what of alert id is not yet being sent; the cancel
// and its audit record commit together.
func (g *Gateway) CancelAlert(ctx context.Context, id uint64, author string) (apitype.CancelResult, error) {
	if _, err := g.store.Alert(id); errors.Is(err, store.ErrNotFound) {
		return apitype.CancelResult{}, apitype.NotFound("alerte %d introuvable", id)
	}
	au := g.operatorAudit(ctx)
	n, rec, err := g.store.CancelAlertAudited(id, g.now(), func(n int) *store.AuditRecord {
		return au.record(apitype.CancelResult{Cancelled: n})
	})
	if err != nil {
		return apitype.CancelResult{}, fmt.Errorf("cancel alert %d: %w", id, err)
	}
	au.stored(rec)
	g.log.Info("alert cancelled", "alert", id, "author", author, "messages", n)
	g.alertProgress(id)
	return apitype.CancelResult{Cancelled: n}, nil
}

// Alert returns an alert with every message's fate.
func (g *Gateway) Alert(id uint64) (apitype.AlertReport, error) {
	a, err := g.store.Alert(id)
	if errors.Is(err, store.ErrNotFound) {
		return apitype.AlertReport{}, apitype.NotFound("alerte %d introuvable", id)
	}
	if err != nil {
		return apitype.AlertReport{}, fmt.Errorf("read alert %d: %w", id, err)
	}
	view, err := g.alertView(a)
	if err != nil {
		return apitype.AlertReport{}, err
	}
	msgs, err := g.store.AlertMessages(id)
	if err != nil {
		return apitype.AlertReport{}, fmt.Errorf("read messages of alert %d: %w", id, err)
	}
	tl, err := g.store.AlertTimeline(id)
	if err != nil {
		return apitype.AlertReport{}, fmt.Errorf("read timeline of alert %d: %w", id, err)
	}
	tv := timelineView(tl)
	rep := apitype.AlertReport{Alert: view, Messages: make([]apitype.Message, 0, len(msgs)), Timeline: &tv}
	for _, m := range msgs {
		v := messageView(m)
		if err := g.describeShop(&v); err != nil {
			return apitype.AlertReport{}, fmt.Errorf("describe the shop of message %d: %w", m.ID, err)
		}
		rep.Messages = append(rep.Messages, v)
	}
	if rep.Replies, err = g.alertReplies(id); err != nil {
		return apitype.AlertReport{}, err
	}
	for _, r := range rep.Replies {
		tv.Replies = append(tv.Replies, r.ReceivedAt)
	}
	return rep, nil
}

// AlertSummary is alert id with its counts and reply count, read from the
// alert's counters: no message is read.
func (g *Gateway) AlertSummary(id uint64) (apitype.Alert, error) {
	a, err := g.store.Alert(id)
	if errors.Is(err, store.ErrNotFound) {
		return apitype.Alert{}, apitype.NotFound("alerte %d introuvable", id)
	}
	if err != nil {
		return apitype.Alert{}, fmt.Errorf("read alert %d: %w", id, err)
	}
	return g.alertView(a)
}

// alertReplies lists the witness replies tied to alert id still kept.
func (g *Gateway) alertReplies(id uint64) ([]apitype.Reply, error) {
	es, err := g.store.AlertReplies(id)
	if err != nil {
		return nil, fmt.Errorf("read replies to alert %d: %w", id, err)
	}
	out := make([]apitype.Reply, 0, len(es))
	for _, e := range es {
		r := apitype.Reply{InboundID: e.ID, ReceivedAt: e.ReceivedAt, From: e.From, Text: e.Text, Read: e.Read()}
		shop, err := g.shopOf(e.From)
		if err != nil {
			return nil, fmt.Errorf("describe the shop of reply %d: %w", e.ID, err)
		}
		r.Name, r.Trade, r.Zones = shop.name, shop.trade, shop.zones
		out = append(out, r)
	}
	return out, nil
}

// shopView is how operators tell a subscriber apart: its name, else its trade
// and zones (by name).
type shopView struct {
	name, trade string
	zones       []string
}

// shopOf describes the subscriber of number; zero if not subscribed.
func (g *Gateway) shopOf(number string) (shopView, error) {
	sub, ok, err := g.store.Subscriber(number)
	if err != nil || !ok {
		return shopView{}, err
	}
	out := shopView{name: sub.Name, trade: sub.Trade, zones: g.zoneNames(sub.Zones)}
	if tr, ok := g.trades.Trade(sub.Trade); ok && tr.Name != "" {
		out.trade = tr.Name
	}
	return out, nil
}

// Alerts lists alerts, newest first.
func (g *Gateway) Alerts() ([]apitype.Alert, error) {
	as, err := g.store.Alerts()
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	out := make([]apitype.Alert, 0, len(as))
	for _, a := range as {
		v, err := g.alertView(a)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (g *Gateway) alertView(a store.Alert) (apitype.Alert, error) {
	counts, err := g.store.AlertCounts(a.ID)
	if err != nil {
		return apitype.Alert{}, fmt.Errorf("count messages of alert %d: %w", a.ID, err)
	}
	v := g.named(alertViewOf(a, counts))
	if v.ReplyCount, err = g.store.AlertReplyCount(a.ID); err != nil {
		return apitype.Alert{}, fmt.Errorf("count replies to alert %d: %w", a.ID, err)
	}
	return v, nil
}

// named adds the names of v's zones and trades, as configured now (an id
// no longer configured keeps its id as name).
func (g *Gateway) named(v apitype.Alert) apitype.Alert {
	v.ZoneNames = g.zoneNames(v.Zones)
	for _, id := range v.Trades {
		name := id
		if tr, ok := g.trades.Trade(id); ok && tr.Name != "" {
			name = tr.Name
		}
		v.TradeNames = append(v.TradeNames, name)
	}
	return v
}

// zoneNames names zone ids as configured now.
func (g *Gateway) zoneNames(ids []string) []string {
	var names []string
	for _, id := range ids {
		name := id
		if z, ok := g.zones.Zone(id); ok && z.Name != "" {
			name = z.Name
		}
		names = append(names, name)
	}
	return names
}

// describeShop names the shop behind a message the operator may have to
// call (failed or expired): its trade and zones, since the names of shops
// are not kept. A number no longer subscribed stays undescribed.
func (g *Gateway) describeShop(m *apitype.Message) error {
	if m.State != string(store.StateFailed) && m.State != string(store.StateExpired) {
		return nil
	}
	shop, err := g.shopOf(m.To)
	m.Name, m.Trade, m.Zones = shop.name, shop.trade, shop.zones
	return err
}

// alertViewOf is the view of a whose messages are in counts.
func alertViewOf(a store.Alert, counts map[store.State]int) apitype.Alert {
	v := apitype.Alert{
		ID: a.ID, Author: a.Author, CreatedAt: a.CreatedAt, Category: a.Category,
		Zones: a.Zones, Trades: a.Trades, All: a.All, FollowUpOf: a.FollowUpOf, Text: a.Text, Rendered: a.Rendered,
		Encoding: a.Encoding, Parts: a.Parts, Recipients: a.Recipients,
		Counts: make(map[string]int, len(counts)),
	}
	for s, n := range counts {
		v.Counts[string(s)] = n
	}
	v.Done = counts[store.StateQueued] == 0 && counts[store.StateSending] == 0
	return v
}

// alertProgress logs the end of an alert once its last message is final.
func (g *Gateway) alertProgress(id uint64) {
	counts, err := g.store.AlertCounts(id)
	if err != nil || counts[store.StateQueued] > 0 || counts[store.StateSending] > 0 {
		return
	}
	g.alertDone(store.AlertDone{ID: id, Counts: counts})
}

// alertDone logs the end of an alert its last write reported finished
// (store.ClaimResult.Finished): no counting again.
func (g *Gateway) alertDone(d store.AlertDone) {
	c := d.Counts
	g.log.Info("alert finished", "alert", d.ID, "sent", c[store.StateSent],
		"delivered", c[store.StateDelivered], "failed", c[store.StateFailed],
		"expired", c[store.StateExpired], "cancelled", c[store.StateCancelled],
		"suppressed", c[store.StateSuppressed])
}

func messageView(m store.Message) apitype.Message {
	return apitype.Message{
		ID: m.ID, To: m.To, State: string(m.State), Attempts: m.Attempts,
		LastError: m.LastError, Modem: m.Modem, Refs: m.Refs, Uncertain: m.Uncertain,
		SentAt: m.SentAt, DeliveredAt: m.DeliveredAt,
	}
}

// eta is the time the healthy modems need for parts SMS parts at their
// configured rates (SPEC §6).
func (g *Gateway) eta(parts int) time.Duration {
	perMinute := 0.0
	for _, w := range g.workers {
		if w.control() == stateReady {
			perMinute += w.cfg.RatePerMinute
		}
	}
	if perMinute == 0 {
		return 0
	}
	return time.Duration(float64(parts) / perMinute * float64(time.Minute))
}
