package gateway

import (
	"fmt"

	"vigie/gateway/keyword"
)

// The replies to a free text that looks like a keyword without being taken
// for one ("STOPP merci", a lone "Zone"): the text is forwarded as any
// free text, and the sender learns the right spelling, so that nobody
// believes he is unsubscribed when he is not. GSM-7 as written, one part
// (TestSpellingReplies).
const (
	replySpellSubscribe = "Vigilance commerce : message transmis à la gendarmerie. Pour vous inscrire, écrivez INSCRIPTION suivi de la zone, par exemple INSCRIPTION %s."
	replySpellStop      = "Vigilance commerce : message transmis à la gendarmerie. Aucune désinscription faite : pour ne plus recevoir d'alertes, écrivez STOP seul."
	replySpellConfirm   = "Vigilance commerce : message transmis à la gendarmerie. Pour confirmer une inscription, écrivez OUI suivi du code envoyé par SMS."
	replySpellHelp      = "Vigilance commerce : message transmis à la gendarmerie. Pour l'aide, écrivez AIDE."
	replySpellZones     = "Vigilance commerce : message transmis à la gendarmerie. Pour la liste des zones, écrivez ZONES."
)

// spellingReply is the reply to a free text that looks like a keyword of
// kind near, or "" when it looks like none.
func (g *Gateway) spellingReply(near keyword.Kind) string {
	switch near {
	case keyword.Subscribe:
		example := "<zone>"
		if zs := g.zones.Zones(); len(zs) > 0 {
			example = zs[0].ID
		}
		return fmt.Sprintf(replySpellSubscribe, example)
	case keyword.Stop:
		return replySpellStop
	case keyword.Confirm:
		return replySpellConfirm
	case keyword.Help:
		return replySpellHelp
	case keyword.ListZones:
		return replySpellZones
	}
	return ""
}
