package gateway

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"vigie/gateway/config"
	"vigie/gateway/fold"
	"vigie/gateway/french"
	"vigie/gateway/keyword"
	"vigie/gateway/phone"
	"vigie/gateway/render"
	"vigie/store"
)

// processUnhandled handles inbound SMS that were saved but not handled:
// left by a crash, or by a database write that failed. Every modem's
// worker rescans them, so two may race for one SMS: the store lets one
// apply it (handleInbound). left counts those the disk refused (each
// logged by handleInbound), which the caller retries soon; one refused by
// the store's rules waits for the next poll, as it may never apply. err is
// a failure to list them.
func (g *Gateway) processUnhandled() (left int, err error) {
	pending, err := g.store.Unprocessed()
	if err != nil {
		return 0, fmt.Errorf("inbound SMS left unhandled: %w", err)
	}
	for _, in := range pending {
		if err := g.handleInbound(in); store.IsDiskFault(err) {
			left++
		}
	}
	return left, nil
}

// handleInbound turns one complete inbound SMS into its effect — a
// subscription, a STOP, a reply, an inbox entry — applied in one
// transaction with marking the SMS handled and its audit record. An SMS
// another worker handled first is left alone, without a word (nil). An
// error means the SMS stays unprocessed (logged here): the caller retries it.
func (g *Gateway) handleInbound(in store.Inbound) error {
	e := g.effect(in)
	applied, err := g.store.ApplyInbound(in.ID, e, g.now())
	known := g.noteWrite(err)
	if errors.Is(err, store.ErrProcessed) {
		// Another worker won the race: it logged, audited and replied.
		return nil
	}
	log := g.log.With("from", phone.Mask(in.From), "outcome", applied.Outcome)
	if err != nil {
		level := slog.LevelError
		if known {
			level = slog.LevelDebug // the fault is reported; this is a retry
		}
		log.Log(context.Background(), level, "inbound SMS not handled; tried again later", "id", in.ID, "outcome", e.Outcome, "err", err)
		return fmt.Errorf("inbound SMS %d: %w", in.ID, err)
	}
	g.handled(in, applied)
	return nil
}

// handled says what handling inbound SMS in did (applied), and follows it
// up: the audit anchor, the sender woken for a reply or forward.
func (g *Gateway) handled(in store.Inbound, applied store.Applied) {
	log := g.log.With("from", phone.Mask(in.From), "outcome", applied.Outcome)
	if in.Incomplete() { // said once, when it is in the inbox
		// Its window passed, or its reference was reused by a new message.
		log.Warn("incomplete SMS: parts never came within sms.concat_window; kept in the inbox",
			"id", in.ID, "missing", in.Missing, "parts", in.Parts, "concat_window", g.cfg.SMS.ConcatWindow)
	}
	switch {
	case applied.ReplyCapped:
		// A robot, a loop between two automatons, or a forger making us
		// text someone: it gets nothing more today.
		log.Warn("daily reply cap reached; no reply", "id", in.ID, "cap", g.cfg.Keywords.RepliesPerDay)
	case applied.StoppedToday:
		log.Info("STOP from a number already stopped today; no new confirmation", "id", in.ID)
	}
	if applied.Outcome == store.CodeVoided {
		log.Warn("subscription request voided after too many wrong codes", "id", in.ID, "wrong_codes", maxWrongCodes)
	}
	if applied.AlertID != 0 {
		log = log.With("alert", applied.AlertID)
		switch {
		case applied.ForwardCapped:
			log.Warn("witness reply not forwarded: inbox.forward_per_hour reached; it stays in the inbox",
				"id", in.ID, "forwarded_this_hour", applied.ForwardsThisHour, "forward_per_hour", g.cfg.Inbox.ForwardPerHour)
		case applied.Forwarded > 0:
			log.Info("witness reply forwarded to the on-duty phones", "id", in.ID, "sms", applied.Forwarded,
				"forwarded_this_hour", applied.ForwardsThisHour)
		}
	}
	log.Info("inbound SMS handled", "id", in.ID)
	if applied.Audit != nil {
		g.anchorAudit(*applied.Audit)
	}
	if applied.ReplyQueued || applied.Forwarded > 0 {
		g.wake()
	}
}

// smsChanges are the outcomes of an inbound SMS that change a subscriber,
// with their label in the audit log: the shopkeeper's own changes are
// traced like an operator's, and so is a request killed by wrong codes
// (someone may be guessing codes for that number).
var smsChanges = map[string]string{
	"subscribed":        "inscription par SMS",
	"subscribe-confirm": "demande d'inscription par SMS (code envoyé)",
	"subscribe-pending": "demande d'inscription par SMS (à approuver)",
	"stopped":           "STOP par SMS",
	store.CodeVoided:    fmt.Sprintf("demande d'inscription par SMS annulée après %d codes erronés", maxWrongCodes),
}

// auditSMS gives the audit record of what SMS in did, by its final outcome
// (nil: not a change); ApplyInbound appends it with the change.
func (g *Gateway) auditSMS(in store.Inbound) func(outcome string) *store.AuditRecord {
	return func(outcome string) *store.AuditRecord {
		label, ok := smsChanges[outcome]
		if !ok {
			return nil
		}
		r := &store.AuditRecord{
			Time: g.now(), User: "sms", UID: -1,
			Action: "SMS " + outcome, Label: label, Target: phone.Mask(in.From),
		}
		if in.ID != 0 { // else the store gives the id it saves the SMS with (ReceiveInbound)
			r.Request = fmt.Sprintf("SMS %d", in.ID)
		}
		return r
	}
}

// Anti-abuse bounds of the confirm policy (SPEC §3): two typos must pass,
// a forger guessing a 4-digit code must not.
const (
	// maxWrongCodes wrong codes void a pending request.
	maxWrongCodes = 5
	// codeRequestsPerDay: the most codes sent to one number per day; with
	// maxWrongCodes, at most 15 guesses a day out of 10,000.
	codeRequestsPerDay = 3
)

// confirmTTL is how long a confirmation code stays valid.
const confirmTTL = 48 * time.Hour

// effect decides what an inbound SMS does. It reads the store but changes
// nothing: ApplyInbound does, atomically.
func (g *Gateway) effect(in store.Inbound) store.Effect {
	cmd := keyword.Parse(in.Text)
	if cmd.Typo != "" {
		// Said at debug: a typo is no event, but it explains a reply.
		g.log.Debug("keyword read from a misspelling", "keyword", cmd.Typo, "kind", cmd.Kind.String())
	}
	// The sender gate. An SMS with parts missing is no keyword: "STOP"
	// could be the start of "STOP à l'arnaque…". A sender that is not a
	// phone (a name, a short code, digits no mobile has) never acts as
	// one: no STOP, INSCRIPTION or OUI applied to the number it spells,
	// no reply; the operators read it.
	if in.Incomplete() || g.senderKind(in.From, in.FromKind) != "" {
		if cmd.Kind == keyword.Empty && !in.Incomplete() {
			return store.Effect{Outcome: "empty"}
		}
		return store.Effect{Outcome: "inbox", ToInbox: true}
	}
	// Robots (alphanumeric senders, short codes) never get an automatic
	// reply: two automatons would answer each other forever. Nor does a
	// text that is itself one of our automatic replies (another Vigie, or
	// our own number): a reply never triggers a reply.
	canReply := !phone.IsShortOrAlpha(in.From) && !isAutomaticReply(in.Text)
	number := in.From
	if canReply {
		if n, err := phone.Normalize(in.From, g.cfg.Station.Region); err == nil {
			number = n
		} else {
			canReply = false
		}
	}
	reply := func(text string) *store.Reply {
		if !canReply || g.cfg.Keywords.RepliesPerDay == 0 {
			return nil // replies_per_day = 0: no automatic reply at all
		}
		// The fixed texts are GSM-7 as written and names come through
		// smsName; the transliteration is the last guard: one â would
		// make the reply UCS-2 and split it in two parts.
		r := render.Render("", text, "", true)
		// An answer to the number's own SMS, not an alert: it reaches a
		// number that sent STOP, or a shop that stopped could never get
		// the code to subscribe again. Forged senders are bounded as for
		// any number (ReplyCap, the code limits).
		return &store.Reply{To: number, Text: r.Body, Parts: r.Parts, IgnoreSuppression: true}
	}

	e := g.keywordEffect(cmd, number, canReply, reply)
	e.ReplyCap = g.cfg.Keywords.RepliesPerDay
	e.Audit = g.auditSMS(in)
	if e.Outcome == "inbox" && e.ToInbox && canReply && g.cfg.Inbox.WitnessWindow > 0 {
		// Only a plain message from a real mobile can be a shop's answer:
		// a keyword is handled, a robot or a truncated SMS is not a shop.
		e.Witness = &store.Witness{Phone: number, Window: g.cfg.Inbox.WitnessWindow,
			// An alert message may wait its TTL in the queue before it
			// goes out, and the window starts when it reached the shop.
			Lookback: g.cfg.Inbox.WitnessWindow + g.cfg.SMS.AlertTTL}
		// An on-duty phone's own SMS is not forwarded back to it, nor to
		// the others: the patrol talks to itself by other means.
		if len(g.cfg.Inbox.ForwardTo) > 0 && !slices.Contains(g.cfg.Inbox.ForwardTo, number) {
			e.Forward = g.forwardEffect(number, in.Text)
		}
	}
	return e
}

func (g *Gateway) keywordEffect(cmd keyword.Command, number string, canReply bool, reply func(string) *store.Reply) store.Effect {
	switch {
	case cmd.Kind == keyword.Empty:
		return store.Effect{Outcome: "empty"}
	case !canReply:
		return store.Effect{Outcome: "inbox", ToInbox: true}
	}

	switch cmd.Kind {
	case keyword.Subscribe:
		return g.subscribeEffect(cmd.Args, number, reply)
	case keyword.Confirm:
		return g.confirmEffect(cmd.Args, number, reply)
	case keyword.Stop:
		// Built here, not by reply: it is sent even with replies_per_day
		// = 0, counted apart (StopRepliesPerDay), and not again to a
		// number already stopped today.
		t := render.Render("", replyStopped, "", true)
		r := &store.Reply{To: number, Text: t.Body, Parts: t.Parts, Stop: true,
			IgnoreSuppression: true} // the one message a STOPped number still gets
		return store.Effect{Outcome: "stopped", Unsubscribe: number, Reply: r}
	case keyword.Help:
		return store.Effect{Outcome: "help", Reply: reply(fmt.Sprintf(replyHelp, g.exampleZone()))}
	case keyword.ListZones:
		return store.Effect{Outcome: "zones", Reply: reply(zoneList(replyZones, g.zones.Zones()))}
	}
	if text := g.spellingReply(cmd.Near); text != "" {
		return store.Effect{Outcome: "inbox", ToInbox: true, Reply: reply(text)}
	}
	return store.Effect{Outcome: "inbox", ToInbox: true, Reply: reply(replyForwarded)}
}

// subscribeEffect applies the subscription policy (SPEC §3) to
// INSCRIPTION <zone> [trade].
func (g *Gateway) subscribeEffect(args []string, number string, reply func(string) *store.Reply) store.Effect {
	if len(args) == 0 {
		return store.Effect{Outcome: "subscribe-no-zone",
			Reply: reply(zoneList(fmt.Sprintf(replyNoZone, g.exampleZone()), g.zones.Zones()))}
	}
	z, rest, ok := g.lookupZone(args)
	if !ok {
		if near, ok := g.zones.Suggest(args[0]); ok {
			// The typed word is not said back: it is outside text.
			return store.Effect{Outcome: "subscribe-unknown-zone",
				Reply: reply(fmt.Sprintf(replyNearZone, smsName(near.Name), near.ID))}
		}
		return store.Effect{Outcome: "subscribe-unknown-zone",
			Reply: reply(zoneList(fmt.Sprintf(replyUnknownZone, g.exampleZone()), g.zones.Zones()))}
	}
	var trade config.Trade
	note := "" // said after the reply: the trade word was not understood
	if len(rest) > 0 {
		// An unknown trade word does not block the subscription: the zone
		// is what matters, an operator can set the trade. The shop is told.
		var known bool
		if trade, known = g.lookupTrade(rest); !known {
			note = replyUnknownTrade
		}
	}
	// The number's zones now, to say an existing subscription and to
	// list every zone after a second one. Read outside ApplyInbound's
	// transaction: a race only changes the wording, never the effect.
	sub, err := g.activeSubscriber(number)
	if err != nil {
		g.log.Error("read subscriber for an SMS subscription", "err", err)
	}
	if slices.Contains(sub.Zones, z.ID) && (trade.ID == "" || trade.ID == sub.Trade) {
		return store.Effect{Outcome: "subscribe-already",
			Reply: reply(g.subscribedReply(replyAlready, replyAlreadyZones, z.ID, sub.Trade, sub.Zones, note))}
	}
	where := g.smsWhere(z.ID, trade.ID)
	switch g.cfg.Keywords.Subscription {
	case "open":
		zones := withZone(sub.Zones, z.ID)
		return store.Effect{
			Outcome:   "subscribed",
			Subscribe: &store.Subscription{Phone: number, Zone: z.ID, Trade: trade.ID, Source: store.SourceSMS},
			Reply:     reply(g.subscribedReply(replySubscribed, replySubscribedZones, z.ID, trade.ID, zones, note)),
		}
	case "approval":
		return store.Effect{
			Outcome: "subscribe-pending",
			Request: &store.Request{Phone: number, Pending: store.Pending{Zone: z.ID, Trade: trade.ID, Policy: "approval", At: g.now()}},
			ToInbox: true, // the operators see the request
			Reply:   reply(fmt.Sprintf(replyPending, where) + note),
		}
	}
	// confirm: sender numbers can be forged; the code proves the phone
	// that asked is the phone that will receive the alerts.
	if capped, err := g.repliesSpent(number); err != nil {
		g.log.Error("read replies of the day for a code request", "err", err)
	} else if capped {
		// The code could not be sent: no request, else the operator would
		// see one waiting for a code nobody got, and a code request of the
		// day would be spent. The reply is capped in the store (and said
		// in the log); should a race let it through, it tells the truth.
		return store.Effect{Outcome: "subscribe-capped", Reply: reply(replyLimited)}
	}
	code := confirmCode()
	req := &store.Request{
		Phone:     number,
		Pending:   store.Pending{Zone: z.ID, Trade: trade.ID, Policy: "confirm", Code: code, At: g.now()},
		MaxPerDay: codeRequestsPerDay,
		Refused:   reply(replyLimited),
	}
	if voided, err := g.voidedToday(number); err != nil {
		g.log.Error("read subscriber for a code request", "err", err)
	} else if voided {
		// The store refuses it either way; the reply says why.
		req.Refused = reply(fmt.Sprintf(replyVoided, maxWrongCodes))
	}
	return store.Effect{
		Outcome: "subscribe-confirm",
		Request: req,
		Reply:   reply(fmt.Sprintf(replyConfirm, where, code) + note),
	}
}

// repliesSpent reports whether number had its automatic replies of the
// day (replies_per_day).
func (g *Gateway) repliesSpent(number string) (bool, error) {
	limit := g.cfg.Keywords.RepliesPerDay
	if limit <= 0 {
		return false, nil
	}
	n, err := g.store.RepliesToday(number, g.now())
	return n >= limit, err
}

// activeSubscriber returns the subscriber of number if active (zero
// otherwise): a stopped number has no zones to speak of.
func (g *Gateway) activeSubscriber(number string) (store.Subscriber, error) {
	sub, found, err := g.store.Subscriber(number)
	if err != nil || !found || sub.Status != store.StatusActive {
		return store.Subscriber{}, err
	}
	return sub, nil
}

// withZone is zones with id added, sorted as the store keeps them.
func withZone(zones []string, id string) []string {
	out := append([]string(nil), zones...)
	if !slices.Contains(out, id) {
		out = append(out, id)
		slices.Sort(out)
	}
	return out
}

// voidedToday reports whether number's request was voided by wrong codes
// today, to word the refusal of a new one.
func (g *Gateway) voidedToday(number string) (bool, error) {
	sub, found, err := g.store.Subscriber(number)
	if err != nil || !found || sub.Pending == nil || sub.Pending.VoidedAt.IsZero() {
		return false, err
	}
	now := g.now()
	y1, m1, d1 := sub.Pending.VoidedAt.In(now.Location()).Date()
	y2, m2, d2 := now.Date()
	return y1 == y2 && m1 == m2 && d1 == d2, nil
}

// confirmEffect handles OUI <code>: the store checks the code against the
// pending request and acts on it in one transaction, so two modems handling
// SMS of the same number at once cannot both activate it, nor both miss a
// wrong code.
func (g *Gateway) confirmEffect(args []string, number string, reply func(string) *store.Reply) store.Effect {
	code := ""
	if len(args) > 0 {
		code = args[0]
	}
	sub, found, err := g.store.Subscriber(number)
	if err != nil {
		g.log.Error("read subscriber for a confirmation code", "err", err)
	}
	if p := sub.Pending; code == "" && found && p != nil && p.Policy == store.PolicyConfirm && p.VoidedAt.IsZero() &&
		g.now().Sub(p.At) <= confirmTTL {
		// "OUI" alone: the shop forgot the code. Not a wrong code — it
		// guesses nothing — so it costs no try; the reply says the form.
		return store.Effect{Outcome: "confirm-no-code", Reply: reply(replyNoCode)}
	}
	var zones []string // the number's active zones before this code
	if sub.Status == store.StatusActive {
		zones = sub.Zones
	}
	return store.Effect{Outcome: "confirm", Code: &store.CodeCheck{
		Phone: number, Code: code, TTL: confirmTTL, MaxWrong: maxWrongCodes,
		Reply: func(r store.CodeResult) *store.Reply {
			switch r.Outcome {
			case store.CodeConfirmed:
				return reply(g.subscribedReply(replySubscribed, replySubscribedZones,
					r.Pending.Zone, r.Pending.Trade, withZone(zones, r.Pending.Zone), ""))
			case store.CodeWrong:
				return reply(fmt.Sprintf(replyWrongCode, french.Count(r.Left, "essai", "essais")))
			case store.CodeVoided, store.CodeDead:
				return reply(fmt.Sprintf(replyVoided, maxWrongCodes))
			}
			return reply(fmt.Sprintf(replyNothingPending, g.exampleZone()))
		},
	}}
}

// confirmCode is a 4-digit code from a cryptographic source: a forger who
// cannot read the shop's SMS must not guess it. (crypto/rand.Read never
// fails; the modulo bias over 2³² is negligible.)
func confirmCode() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%04d", binary.BigEndian.Uint32(b[:])%10000)
}

// isAutomaticReply recognises the texts our own replies and forwards
// start with: two boxes forwarding to each other must not loop.
func isAutomaticReply(text string) bool {
	t := fold.Fold(strings.TrimSpace(text))
	return strings.HasPrefix(t, fold.Fold(replyPrefix)) || strings.HasPrefix(t, fold.Fold(forwardPrefix))
}

// lookupZone finds the zone named by the first words of args ("Mâcon
// Centre" is one zone name in two words) and returns the words after it.
func (g *Gateway) lookupZone(args []string) (config.Zone, []string, bool) {
	for n := len(args); n >= 1; n-- {
		if z, ok := g.zones.Lookup(strings.Join(args[:n], " ")); ok {
			return z, args[n:], true
		}
	}
	return config.Zone{}, nil, false
}

// lookupTrade finds the trade named by the first words of args.
func (g *Gateway) lookupTrade(args []string) (config.Trade, bool) {
	for n := len(args); n >= 1; n-- {
		if t, ok := g.trades.Lookup(strings.Join(args[:n], " ")); ok {
			return t, true
		}
	}
	return config.Trade{}, false
}
