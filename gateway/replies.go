package gateway

import (
	"strings"

	"vigie/gateway/config"
	"vigie/gateway/render"
)

// The French replies shopkeepers read. Each must fit in one SMS part; the
// zone list is cut to fit.
const (
	replyPrefix         = "Vigilance commerce"
	replySubscribed     = "Vigilance commerce : inscription enregistrée pour la zone %s. Envoyez STOP pour ne plus recevoir d'alertes."
	replyPending        = "Vigilance commerce : demande d'inscription pour la zone %s reçue, en attente de validation par la gendarmerie."
	replyStopped        = "Vigilance commerce : vous ne recevrez plus d'alertes. Envoyez INSCRIPTION <zone> pour vous réinscrire."
	replyHelp           = "Vigilance commerce : INSCRIPTION <zone> pour recevoir les alertes, STOP pour les arrêter, ZONES pour la liste des zones."
	replyUnknown        = "Vigilance commerce : zone inconnue. Zones : "
	replyZones          = "Vigilance commerce, zones : "
	replyForwarded      = "Vigilance commerce : message transmis à la gendarmerie. Merci."
	replyConfirm        = "Vigilance commerce : pour confirmer l'inscription zone %s, répondez OUI %s (valable 48 h)."
	replyNothingPending = "Vigilance commerce : aucune inscription en attente. Envoyez INSCRIPTION <zone> pour vous inscrire."
	// A wrong code says how many tries are left (french.Count), a dead
	// request what to do instead: codes can be brute-forced (SPEC §3).
	replyWrongCode = "Vigilance commerce : code erroné. Il vous reste %s."
	replyVoided    = "Vigilance commerce : demande annulée après %d codes erronés. Renvoyez INSCRIPTION <zone> demain."
	replyLimited   = "Vigilance commerce : trop de demandes de code aujourd'hui. Utilisez le dernier code envoyé ou renvoyez INSCRIPTION <zone> demain."
)

// zoneList builds "prefix" + the zone ids, cut so the reply stays one
// part once transliterated, as every reply is.
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
