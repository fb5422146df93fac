package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"vigie/gateway/apitype"
	"vigie/gateway/phone"
)

// The listings an operator reads about past alerts: `alert list`, `alert
// show` and what `alert cancel` says. Operators see whole numbers (they
// call the shops the alert missed); only logs mask them.

// alertState names an alert's state in French: a cancel leaves the alert
// "Annulée", not "Terminée", even though its last message is final.
func alertState(a apitype.Alert) string {
	switch {
	case !a.Done:
		return "En cours"
	case a.Counts["cancelled"] > 0:
		return "Annulée"
	}
	return "Terminée"
}

// alertTargetFrench is whom an alert was for, by zone names.
func alertTargetFrench(a apitype.Alert) string {
	if a.All {
		return "tous les abonnés"
	}
	names := a.ZoneNames
	if len(names) != len(a.Zones) {
		names = a.Zones // a daemon that does not name them
	}
	return inert(strings.Join(names, ", "))
}

// alertTradesFrench names an alert's trades; "" for none.
func alertTradesFrench(a apitype.Alert) string {
	names := a.TradeNames
	if len(names) != len(a.Trades) {
		names = a.Trades
	}
	return inert(strings.Join(names, ", "))
}

// encodingShort names an SMS alphabet in a line of a report.
var encodingShort = map[string]string{"GSM7": "GSM 7 bits", "UCS2": "UCS-2"}

// printAlertList writes the alerts as a table, newest first as given.
func printAlertList(w io.Writer, as []apitype.Alert) {
	if len(as) == 0 {
		fmt.Fprintln(w, "Aucune alerte pour l'instant. Pour en envoyer une : vigie alert send --zone ZONE")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "N°\tDate\tZones\tÉtat\tDest.\tEnvoyés\tÉchecs\tTexte")
	for _, a := range as {
		text := shorten(inert(strings.Join(strings.Fields(a.Text), " ")), 40)
		if a.FollowUpOf != 0 {
			text = fmt.Sprintf("[suite de %d] %s", a.FollowUpOf, text)
		}
		// Trades are left to `alert show`: the zones are what tells
		// alerts apart in a list.
		target := alertTargetFrench(a)
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", a.ID, a.CreatedAt.Local().Format("02/01 15:04"),
			shorten(target, 30), alertState(a), a.Recipients,
			a.Counts["sent"]+a.Counts["delivered"], a.Counts["failed"]+a.Counts["expired"], text)
	}
	tw.Flush()
}

// shopFrench describes the shop behind a message: its name if it has
// one, and its trade and zones by name; "" when the daemon did not say.
func shopFrench(m apitype.Message) string {
	var parts []string
	if m.Name != "" {
		parts = append(parts, m.Name)
	}
	if m.Trade != "" {
		parts = append(parts, m.Trade)
	}
	if len(m.Zones) > 0 {
		parts = append(parts, strings.Join(m.Zones, ", "))
	}
	return inert(strings.Join(parts, ", "))
}

// toCall reports whether the operator should phone the shop of a message
// the alert missed: a send that failed or came too late. Not a shop that
// sent STOP, nor one the operator cancelled.
func toCall(m apitype.Message) bool {
	return m.State == "failed" || m.State == "expired"
}

func printAlertReport(w io.Writer, rep apitype.AlertReport) {
	printAlertMessages(w, rep)
	printReplies(w, rep)
}

// printReplies lists the witness replies: what the shops saw is what the
// gendarmes read first, so each says who sent it and when.
func printReplies(w io.Writer, rep apitype.AlertReport) {
	if rep.ReplyCount == 0 && len(rep.Replies) == 0 {
		return
	}
	fmt.Fprintf(w, "%s :\n", count(rep.ReplyCount, "réponse de commerçant", "réponses de commerçants"))
	for _, r := range rep.Replies {
		fmt.Fprintf(w, "  %s  %-16s %s\n", r.ReceivedAt.Local().Format("02/01 15:04"), phone.Display(r.From), replyShopFrench(r))
		fmt.Fprintf(w, "    « %s »\n", inertBlock(r.Text, "      "))
	}
	if purged := rep.ReplyCount - len(rep.Replies); purged > 0 {
		fmt.Fprintf(w, "  (%s par la purge de [retention])\n",
			count(purged, "réponse effacée", "réponses effacées"))
	}
}

// replyShopFrench names the shop of a reply: its name, else its trade and
// zones.
func replyShopFrench(r apitype.Reply) string {
	if r.Name != "" {
		return inert(r.Name)
	}
	if shop := shopFrench(apitype.Message{Trade: r.Trade, Zones: r.Zones}); shop != "" {
		return shop
	}
	return "non abonné"
}

func printAlertMessages(w io.Writer, rep apitype.AlertReport) {
	target := alertTargetFrench(rep.Alert)
	if trades := alertTradesFrench(rep.Alert); trades != "" {
		target += " ; métiers : " + trades
	}
	if rep.FollowUpOf != 0 {
		target += fmt.Sprintf(" (suite de l'alerte %d)", rep.FollowUpOf)
	}
	enc := encodingShort[rep.Encoding]
	if enc == "" {
		enc = rep.Encoding
	}
	fmt.Fprintf(w, "Alerte %d (%s) par %s le %s\n", rep.ID, rep.Category, inert(rep.Author), rep.CreatedAt.Local().Format("02/01/2006 15:04:05"))
	fmt.Fprintf(w, "Cible : %s — %s, %d SMS chacun (%s)\n", target, count(rep.Recipients, "destinataire", "destinataires"), rep.Parts, enc)
	fmt.Fprintf(w, "Texte : %s\n", inert(rep.Rendered))
	printCounts(w, rep.Counts)
	fmt.Fprintln(w, alertState(rep.Alert)+".")
	printTimeline(w, rep)
	if len(rep.Messages) == 0 {
		return
	}
	fmt.Fprintln(w, "Destinataires :")
	var missed, call []apitype.Message
	for _, m := range rep.Messages {
		state := messageStateFrench[m.State]
		if unconfirmed(m) {
			state = "envoi non confirmé"
		}
		line := fmt.Sprintf("  %-16s %s", phone.Display(m.To), state)
		if m.Modem != "" {
			line += fmt.Sprintf(" (modem %s, %s)", m.Modem, count(m.Attempts, "essai", "essais"))
		}
		switch {
		case unconfirmed(m):
			line += " — incertain : le modem n'a pas dit si le SMS est parti ; il a pu être reçu, même deux fois"
		case m.Uncertain:
			line += " — incertain : peut-être reçu deux fois"
		}
		if (m.State == "queued" || m.State == "sending") && m.LastError != "" {
			line += " — dernière erreur : " + inert(m.LastError)
		}
		fmt.Fprintln(w, line)
		if missedReason(m) != "" {
			missed = append(missed, m)
		}
		if toCall(m) {
			call = append(call, m)
		}
	}
	if len(missed) == 0 {
		return
	}
	fmt.Fprintf(w, "Ne l'ont pas reçue (%d) :\n", len(missed))
	for _, m := range missed {
		fmt.Fprintf(w, "  %-16s %s\n", phone.Display(m.To), inert(missedReason(m)))
	}
	if len(call) == 0 {
		return
	}
	fmt.Fprintf(w, "À prévenir par téléphone (%d) :\n", len(call))
	for _, m := range call {
		line := "  " + phone.Display(m.To)
		if shop := shopFrench(m); shop != "" {
			line += " — " + shop
		} else {
			line += " — n'est plus abonné"
		}
		fmt.Fprintln(w, line)
	}
}

// printCancelled says what a cancel did. Nothing cancelled is said as
// what it means: the alert was already over, or what is left is being
// sent now and cannot be stopped — never « 0 SMS annulés ».
func printCancelled(ctx context.Context, g *globalOptions, id uint64, res apitype.CancelResult) error {
	if res.Cancelled > 0 {
		fmt.Fprintf(g.stdout, "Alerte %d : %s ; ceux déjà partis ne peuvent pas être rappelés.\n",
			id, count(res.Cancelled, "SMS annulé avant son envoi", "SMS annulés avant leur envoi"))
		return nil
	}
	rep, err := g.client().Alert(ctx, id)
	if err != nil {
		return err
	}
	if rep.Done {
		sent := rep.Counts["sent"] + rep.Counts["delivered"]
		fmt.Fprintf(g.stdout, "Alerte %d déjà %s : il n'y a plus rien à annuler (%s). Compte rendu : vigie alert show %d\n",
			id, strings.ToLower(alertState(rep.Alert)), count(sent, "SMS parti", "SMS partis"), id)
		return nil
	}
	fmt.Fprintf(g.stdout, "Alerte %d : rien à annuler, les derniers SMS sont en cours d'envoi et ne peuvent plus être arrêtés. Suivi : vigie alert show %d\n", id, id)
	return nil
}
