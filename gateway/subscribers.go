package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"vigie/gateway/apitype"
	"vigie/gateway/csvimport"
	"vigie/gateway/phone"
	"vigie/gateway/render"
	"vigie/store"
)

// Operators' management of subscribers (SPEC §2, §11): list, show, add,
// approve, remove, erase and import. Numbers come in any usual form and are
// normalised with the station's region; refusals are French UserErrors.

// ListSubscribers lists the subscribers matching f, sorted by phone.
func (g *Gateway) ListSubscribers(f apitype.SubscriberFilter) ([]apitype.Subscriber, error) {
	var zones []string
	if f.Zone != "" {
		z, ok := g.zones.Lookup(f.Zone)
		if !ok {
			return nil, g.unknownZone(f.Zone)
		}
		var err error
		if zones, err = g.zones.Expand([]string{z.ID}); err != nil {
			return nil, fmt.Errorf("expand zone %s: %w", z.ID, err)
		}
	}
	var trade string
	if f.Trade != "" {
		tr, ok := g.trades.Lookup(f.Trade)
		if !ok {
			return nil, g.unknownTrade(f.Trade)
		}
		trade = tr.ID
	}
	switch f.Status {
	case "", apitype.SubscriberActive, apitype.SubscriberPending, apitype.SubscriberStopped:
	default:
		return nil, apitype.Invalid("statut inconnu : %q (active, pending ou stopped)", f.Status)
	}
	subs, err := g.store.Subscribers()
	if err != nil {
		return nil, fmt.Errorf("list subscribers: %w", err)
	}
	out := make([]apitype.Subscriber, 0, len(subs))
	for _, s := range subs {
		if zones != nil && !slices.ContainsFunc(s.Zones, func(z string) bool { return slices.Contains(zones, z) }) {
			continue
		}
		if (trade != "" && s.Trade != trade) || (f.Status != "" && string(s.Status) != f.Status) {
			continue
		}
		out = append(out, toAPISubscriber(s))
	}
	return out, nil
}

// ShowSubscriber returns what Vigie knows of a number. A number with no
// record is NotFound, unless it is on the suppression list.
func (g *Gateway) ShowSubscriber(number string) (apitype.SubscriberDetail, error) {
	n, err := g.normalize(number)
	if err != nil {
		return apitype.SubscriberDetail{}, err
	}
	sub, found, err := g.store.Subscriber(n)
	if err != nil {
		return apitype.SubscriberDetail{}, fmt.Errorf("show subscriber: %w", err)
	}
	suppressed, err := g.store.Suppressed(n)
	if err != nil {
		return apitype.SubscriberDetail{}, fmt.Errorf("show subscriber: %w", err)
	}
	if !found && !suppressed {
		return apitype.SubscriberDetail{}, apitype.NotFound("%s n'est pas abonné", n)
	}
	d := apitype.SubscriberDetail{Subscriber: apitype.Subscriber{Phone: n, Zones: []string{}}, Suppressed: suppressed}
	if found {
		d.Subscriber = toAPISubscriber(sub)
	}
	if d.AlertsReceived, err = g.store.AlertsReceived(n); err != nil {
		return apitype.SubscriberDetail{}, fmt.Errorf("show subscriber: %w", err)
	}
	return d, nil
}

// AddSubscriber subscribes a number to zones (and a trade) on an
// operator's word. A number that sent STOP is refused unless req.Force.
// The change and its audit record commit together (opAudit).
func (g *Gateway) AddSubscriber(ctx context.Context, req apitype.AddSubscriberRequest, author string) (apitype.AddSubscriberResult, error) {
	n, err := g.normalize(req.Phone)
	if err != nil {
		return apitype.AddSubscriberResult{}, err
	}
	if len(req.Zones) == 0 {
		return apitype.AddSubscriberResult{}, apitype.Invalid("indiquez au moins une zone (--zone)")
	}
	e := store.Enrolment{Phone: n, Name: req.Name, Source: store.SourceOperator, Force: req.Force}
	for _, w := range req.Zones {
		z, ok := g.zones.Lookup(w)
		if !ok {
			return apitype.AddSubscriberResult{}, g.unknownZone(w)
		}
		e.Zones = append(e.Zones, z.ID)
	}
	if req.Trade != "" {
		tr, ok := g.trades.Lookup(req.Trade)
		if !ok {
			return apitype.AddSubscriberResult{}, g.unknownTrade(req.Trade)
		}
		e.Trade = tr.ID
	}
	au := g.operatorAudit(ctx)
	sub, out, rec, err := g.store.EnrolAudited(e, g.now(), func(sub store.Subscriber, out store.Outcome) *store.AuditRecord {
		return au.record(addResult(sub, out))
	})
	if errors.Is(err, store.ErrSuppressed) {
		return apitype.AddSubscriberResult{}, &apitype.UserError{Kind: apitype.RefuseConflict, Message: fmt.Sprintf(
			"%s a envoyé STOP (ou a été effacé) : il ne reçoit plus rien. "+
				"S'il a redemandé l'inscription en personne, relancez avec --force.", n)}
	}
	if err != nil {
		return apitype.AddSubscriberResult{}, fmt.Errorf("add subscriber: %w", err)
	}
	au.stored(rec)
	g.log.Info("subscriber added by an operator", "phone", phone.Mask(n), "zones", sub.Zones,
		"trade", sub.Trade, "outcome", out, "forced", req.Force, "author", author)
	return addResult(sub, out), nil
}

// addResult is the answer to an operator's add.
func addResult(sub store.Subscriber, out store.Outcome) apitype.AddSubscriberResult {
	res := apitype.AddSubscriberResult{Subscriber: toAPISubscriber(sub), Outcome: apitype.OutcomeAdded}
	switch out {
	case store.OutcomeUpdated:
		res.Outcome = apitype.OutcomeUpdated
	case store.OutcomeUnchanged:
		res.Outcome = apitype.OutcomeSkipped
	}
	return res
}

// ApproveSubscriber activates the pending request of a number (policy
// approval, or confirm on an operator's word) and queues the shop's
// "inscription enregistrée" SMS in the same transaction, with the audit
// record.
func (g *Gateway) ApproveSubscriber(ctx context.Context, number, author string) (apitype.Subscriber, error) {
	n, err := g.normalize(number)
	if err != nil {
		return apitype.Subscriber{}, err
	}
	au := g.operatorAudit(ctx)
	// The zones the number has before, to list them all after a second
	// one; a race only changes the wording.
	before, err := g.activeSubscriber(n)
	if err != nil {
		return apitype.Subscriber{}, fmt.Errorf("approve subscriber: %w", err)
	}
	sub, rec, err := g.store.ApproveAndReplyAudited(n, func(p store.Pending) store.Reply {
		text := g.subscribedReply(replySubscribed, replySubscribedZones, p.Zone, p.Trade, withZone(before.Zones, p.Zone), "")
		r := render.Render("", text, "", true)
		return store.Reply{To: n, Text: r.Body, Parts: r.Parts}
	}, g.now(), func(sub store.Subscriber) *store.AuditRecord { return au.record(toAPISubscriber(sub)) })
	switch {
	case errors.Is(err, store.ErrNotFound):
		return apitype.Subscriber{}, apitype.NotFound("%s n'est pas abonné", n)
	case errors.Is(err, store.ErrState):
		return apitype.Subscriber{}, apitype.Invalid("%s n'a pas de demande d'inscription en attente", n)
	case err != nil:
		return apitype.Subscriber{}, fmt.Errorf("approve subscriber: %w", err)
	}
	au.stored(rec)
	g.log.Info("subscription approved", "phone", phone.Mask(n), "zones", sub.Zones, "author", author)
	g.wake()
	return toAPISubscriber(sub), nil
}

// RemoveSubscriber unsubscribes a number on an operator's word: stopped,
// zones cleared, its queued alert messages cancelled, but not on the
// suppression list (that is what STOP does). With erase, its personal data
// is deleted instead (store.EraseSubscriber): every queued message to it is
// cancelled, and only a keyed hash stays on the suppression list. Either
// way the change and its audit record commit together.
func (g *Gateway) RemoveSubscriber(ctx context.Context, number string, erase bool, author string) (apitype.RemoveSubscriberResult, error) {
	n, err := g.normalize(number)
	if err != nil {
		return apitype.RemoveSubscriberResult{}, err
	}
	res := apitype.RemoveSubscriberResult{Phone: n}
	au := g.operatorAudit(ctx)
	if erase {
		erased := func(e store.Erasure) apitype.RemoveSubscriberResult {
			return apitype.RemoveSubscriberResult{Phone: n, Erased: true, Cancelled: e.Cancelled, Inbound: e.Inbound, Messages: e.Messages}
		}
		e, rec, err := g.store.EraseSubscriberAudited(n, g.now(), func(e store.Erasure) *store.AuditRecord { return au.record(erased(e)) })
		// Not compacted, the erasure stands, and so does its record.
		au.stored(rec)
		if errors.Is(err, store.ErrNotCompacted) {
			g.log.Error("subscriber erased, but the database file not compacted: it still holds freed copies of the number",
				"phone", phone.Mask(n), "author", author, "err", err)
			return res, &apitype.UserError{Kind: apitype.RefuseFailed, Message: fmt.Sprintf(
				"%s est effacé, mais le fichier de la base n'a pas pu être compacté (place disque ? voir journalctl -u vigie) : "+
					"ses pages libérées gardent des copies du numéro jusqu'au prochain démarrage de vigie, qui le compacte "+
					"(les sauvegardes, copies compactées, n'en ont pas). Libérez de la place, puis relancez l'effacement ou redémarrez vigie.", n)}
		}
		if err != nil {
			return res, fmt.Errorf("erase subscriber: %w", err)
		}
		res = erased(e)
		g.log.Info("subscriber erased", "phone", phone.Mask(n), "cancelled", e.Cancelled,
			"inbound", e.Inbound, "messages", e.Messages, "author", author)
		return res, nil
	}
	var rec store.AuditRecord
	_, res.Cancelled, rec, err = g.store.RemoveSubscriberAudited(n, g.now(), func(_ store.Subscriber, cancelled int) *store.AuditRecord {
		return au.record(apitype.RemoveSubscriberResult{Phone: n, Cancelled: cancelled})
	})
	if errors.Is(err, store.ErrNotFound) {
		return res, apitype.NotFound("%s n'est pas abonné", n)
	}
	if err != nil {
		return res, fmt.Errorf("remove subscriber: %w", err)
	}
	au.stored(rec)
	g.log.Info("subscriber removed by an operator", "phone", phone.Mask(n), "cancelled", res.Cancelled, "author", author)
	return res, nil
}

// ImportSubscribers imports a spreadsheet: every valid row in one
// transaction (or none with DryRun), rejected rows reported, numbers on the
// suppression list skipped. A real import and its audit record commit
// together; a dry run, which changes nothing, is recorded by the API.
func (g *Gateway) ImportSubscribers(ctx context.Context, req apitype.ImportRequest, author string) (apitype.ImportReport, error) {
	parsed, err := csvimport.Parse(req.Data, csvimport.Options{
		Region:      g.cfg.Station.Region,
		DefaultZone: req.DefaultZone,
		Zone: func(w string) (string, bool) {
			z, ok := g.zones.Lookup(w)
			return z.ID, ok
		},
		Trade: func(w string) (string, bool) {
			t, ok := g.trades.Lookup(w)
			return t.ID, ok
		},
		Suggest: g.suggestWord,
	})
	switch {
	case errors.Is(err, csvimport.ErrEmpty):
		return apitype.ImportReport{}, apitype.Invalid("le fichier est vide")
	case errors.Is(err, csvimport.ErrNoPhoneColumn):
		var names []string
		for _, c := range parsed.Columns {
			names = append(names, c.Name)
		}
		return apitype.ImportReport{}, apitype.Invalid("aucune colonne de téléphone dans la première ligne "+
			"(attendu : téléphone, portable, mobile, numéro… ; lu : %q)", strings.Join(names, string(parsed.Separator)))
	case errors.Is(err, csvimport.ErrDefaultZone):
		return apitype.ImportReport{}, g.unknownZoneAs("zone par défaut inconnue", req.DefaultZone)
	case err != nil:
		return apitype.ImportReport{}, fmt.Errorf("read spreadsheet: %w", err)
	}

	es := make([]store.Enrolment, len(parsed.Rows))
	for i, r := range parsed.Rows {
		es[i] = store.Enrolment{Phone: r.Phone, Zones: r.Zones, Trade: r.Trade, Name: r.Name, Source: store.SourceImport, ReplaceZones: req.ReplaceZones}
	}
	var au *opAudit
	if !req.DryRun {
		au = g.operatorAudit(ctx)
	}
	outs, rec, err := g.store.ImportAudited(es, req.DryRun, g.now(), func(outs []store.Outcome) *store.AuditRecord {
		return au.record(importReport(req, parsed, outs))
	})
	if err != nil {
		return apitype.ImportReport{}, fmt.Errorf("import subscribers: %w", err)
	}
	au.stored(rec)
	rep := importReport(req, parsed, outs)
	g.log.Info("subscribers imported", "dry_run", req.DryRun, "replace_zones", req.ReplaceZones, "added", rep.Added, "updated", rep.Updated,
		"skipped", rep.Skipped, "rejected", rep.Rejected, "author", author)
	return rep, nil
}

// importReport is the answer to an import of parsed whose valid rows had
// outs.
func importReport(req apitype.ImportRequest, parsed csvimport.Result, outs []store.Outcome) apitype.ImportReport {
	rep := apitype.ImportReport{DryRun: req.DryRun, ReplaceZones: req.ReplaceZones, Encoding: parsed.Encoding, Separator: string(parsed.Separator), Rows: []apitype.ImportRow{}}
	for _, c := range parsed.Columns {
		rep.Columns = append(rep.Columns, apitype.ImportColumn{Name: c.Name, Field: string(c.Field)})
	}
	for i, r := range parsed.Rows {
		row := apitype.ImportRow{Line: r.Line, Phone: r.Phone, Zones: r.Zones, Trade: r.Trade}
		switch outs[i] {
		case store.OutcomeAdded:
			row.Outcome = apitype.OutcomeAdded
			rep.Added++
		case store.OutcomeUpdated:
			row.Outcome = apitype.OutcomeUpdated
			rep.Updated++
		case store.OutcomeSuppressed:
			row.Outcome, row.Reason = apitype.OutcomeSkipped, apitype.SkipSuppressed
			row.Message = "a envoyé STOP ou a été effacé : jamais réinscrit par un fichier"
			rep.Skipped++
		default:
			row.Outcome, row.Reason = apitype.OutcomeSkipped, apitype.SkipUnchanged
			row.Message = "déjà inscrit ainsi"
			rep.Skipped++
		}
		rep.Rows = append(rep.Rows, row)
	}
	for _, r := range parsed.Rejected {
		rep.Rows = append(rep.Rows, apitype.ImportRow{
			Line: r.Line, Outcome: apitype.OutcomeRejected, Reason: string(r.Reason),
			Column: r.Column, Value: r.Value, Message: r.Message(),
		})
		rep.Rejected++
	}
	slices.SortStableFunc(rep.Rows, func(a, b apitype.ImportRow) int { return a.Line - b.Line })
	return rep
}

// normalize reads a number typed by an operator, with the station's region.
func (g *Gateway) normalize(number string) (string, error) {
	n, err := phone.Normalize(number, g.cfg.Station.Region)
	switch {
	case errors.Is(err, phone.ErrNotMobile):
		return "", apitype.Invalid("%q n'est pas un numéro de mobile : il ne peut pas recevoir de SMS", number)
	case err != nil:
		return "", apitype.Invalid("numéro invalide : %q (attendu : 06 12 34 56 78 ou +33 6 12 34 56 78)", number)
	}
	return n, nil
}

// where names a zone (and trade) for a shopkeeper: "Mâcon centre (Tabac)".
func (g *Gateway) where(zoneID, tradeID string) string {
	where := zoneID
	if z, ok := g.zones.Zone(zoneID); ok {
		where = z.Name
	}
	if tr, ok := g.trades.Trade(tradeID); ok {
		where += " (" + tr.Name + ")"
	}
	return where
}

func toAPISubscriber(s store.Subscriber) apitype.Subscriber {
	out := apitype.Subscriber{
		Phone: s.Phone, Zones: s.Zones, Trade: s.Trade, Name: s.Name, Status: string(s.Status),
		Source: s.Source, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
	if out.Zones == nil {
		out.Zones = []string{}
	}
	if p := s.Pending; p != nil {
		out.Pending = &apitype.PendingRequest{Zone: p.Zone, Trade: p.Trade, Policy: p.Policy, At: p.At,
			WrongCodes: p.WrongCodes, VoidedAt: p.VoidedAt}
	}
	return out
}
