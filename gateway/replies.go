package gateway

import (
	"fmt"
	"strings"

	"vigie/gateway/config"
	"vigie/gateway/french"
	"vigie/gateway/render"
)

// The French replies shopkeepers read. Each is GSM-7 as written (é è à ù
// are in the alphabet; ê â î ô û ç are not, so "reçu", "arrêter" are
// worded otherwise rather than sent misspelt by the transliteration) and
// fits in one SMS part with the widest names of the config; names are
// folded only where GSM-7 lacks a letter (smsName). Lists are cut to fit.
// TestEveryReplyGSM7OnePart renders them all.
const (
	replyPrefix = "Vigilance commerce"

	replySubscribed      = "Vigilance commerce : inscription enregistrée pour la zone %s. Envoyez STOP pour ne plus recevoir d'alertes."
	replySubscribedZones = "Vigilance commerce : inscription enregistrée. Vos zones : %s. Envoyez STOP pour ne plus recevoir d'alertes."
	replyAlready         = "Vigilance commerce : ce numéro est déjà inscrit pour la zone %s. Envoyez STOP pour ne plus recevoir d'alertes."
	replyAlreadyZones    = "Vigilance commerce : ce numéro est déjà inscrit. Vos zones : %s. Envoyez STOP pour ne plus recevoir d'alertes."
	replyPending         = "Vigilance commerce : demande d'inscription pour la zone %s enregistrée, en attente de validation par la gendarmerie."
	replyConfirm         = "Vigilance commerce : pour confirmer l'inscription à la zone %s, répondez OUI %s (code valable 48 h)."
	// replyUnknownTrade follows a subscription reply whose trade word
	// matched no trade: the zone is what matters, the trade is left out.
	replyUnknownTrade = " Métier inconnu."

	replyStopped = "Vigilance commerce : vous ne recevrez plus d'alertes. Pour vous réinscrire, envoyez INSCRIPTION suivi de votre zone."
	replyHelp    = "Vigilance commerce : INSCRIPTION et votre zone pour recevoir les alertes (ex. : INSCRIPTION %s), STOP pour ne plus les recevoir, ZONES pour la liste."
	// The zone lists: the prefix, then the zone ids, cut to one part.
	replyNoZone      = "Vigilance commerce : indiquez votre zone, par exemple INSCRIPTION %s. Zones : "
	replyUnknownZone = "Vigilance commerce : zone inconnue. Exemple : INSCRIPTION %s. Zones : "
	// replyNearZone answers a misspelt zone that is near one zone only.
	replyNearZone = "Vigilance commerce : zone inconnue. Vouliez-vous dire %s ? Envoyez INSCRIPTION %s."
	replyZones    = "Vigilance commerce, zones : "
	// A free text is kept in the operators' inbox: nobody is promised to
	// read it at once, so the 17 is said.
	replyForwarded = "Vigilance commerce : message transmis à la gendarmerie ; en cas d'urgence, appelez le 17."

	replyNoCode         = "Vigilance commerce : il manque le code. Répondez OUI suivi du code à 4 chiffres de notre SMS, par exemple OUI 1234 si le code est 1234."
	replyNothingPending = "Vigilance commerce : aucune inscription en attente. Envoyez INSCRIPTION suivi de votre zone, par exemple INSCRIPTION %s."
	// A wrong code says how many tries are left (french.Count), a dead
	// request what to do instead: codes can be brute-forced (SPEC §3).
	replyWrongCode = "Vigilance commerce : code erroné. Il vous reste %s."
	replyVoided    = "Vigilance commerce : demande annulée après %d codes erronés. Renvoyez INSCRIPTION suivi de votre zone demain."
	replyLimited   = "Vigilance commerce : trop de demandes de code aujourd'hui. Utilisez le dernier code envoyé ou renvoyez INSCRIPTION demain."
)

// smsName is a zone or trade name as a reply writes it: the accents GSM-7
// has are kept ("Charnay-lès-"), the others folded ("Mâcon" → "Macon"),
// so that a name never makes a reply UCS-2 and two parts.
func smsName(name string) string { return render.Transliterate(name) }

// zoneList builds "prefix" + the zone ids, cut so the reply stays one
// part.
func zoneList(prefix string, zones []config.Zone) string {
	var b strings.Builder
	b.WriteString(prefix)
	for i, z := range zones {
		next := z.ID
		if i > 0 {
			next = ", " + next
		}
		if render.Measure(render.Transliterate(b.String()+next+"...")).Parts > 1 {
			b.WriteString("...")
			break
		}
		b.WriteString(next)
	}
	return b.String()
}

// fitNames fills the one %s of format with names the French way
// ("a, b et c"), dropping the last ones for "..." while the reply would
// take more than one part.
func fitNames(format string, names []string) string {
	for n := len(names); n > 0; n-- {
		list := french.List(names[:n])
		if n < len(names) {
			list = strings.Join(names[:n], ", ") + "..."
		}
		if s := fmt.Sprintf(format, list); render.Measure(s).Parts <= 1 {
			return s
		}
	}
	return fmt.Sprintf(format, "...")
}

// exampleZone is the zone id the replies give as an example: the first of
// the config, a word the shop can type as is.
func (g *Gateway) exampleZone() string {
	if zs := g.zones.Zones(); len(zs) > 0 {
		return zs[0].ID
	}
	return "commune"
}

// smsWhere names a zone, with the trade if any, as a reply writes it.
func (g *Gateway) smsWhere(zoneID, tradeID string) string {
	return smsName(g.where(zoneID, tradeID))
}

// subscribedReply is the reply to an active subscription: the zone (and
// trade) when it is the number's only one, else every zone of the number,
// so that a shop in two zones knows it is in both; note follows, within
// the one part.
func (g *Gateway) subscribedReply(one, several string, zoneID, tradeID string, zones []string, note string) string {
	if len(zones) <= 1 {
		return fmt.Sprintf(one, g.smsWhere(zoneID, tradeID)) + note
	}
	names := make([]string, 0, len(zones))
	for _, id := range zones {
		names = append(names, g.smsWhere(id, ""))
	}
	return fitNames(several+note, names)
}
