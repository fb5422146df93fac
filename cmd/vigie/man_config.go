package main

// vigie.toml(5): every key of the configuration file, in French. The truth
// is gateway/config (the keys it decodes, their defaults and bounds) and
// configs/vigie.toml (the reference file); a test holds this page to both.

import (
	"io"
)

type configKey struct{ key, def, desc string }

type configTable struct {
	name, desc string
	keys       []configKey
}

var configTables = []configTable{
	{"[station]", "La brigade ou le service qui tient la passerelle.", []configKey{
		{"name", "aucun", "Nom de la station, montré aux opérateurs dans vigie status et les comptes rendus."},
		{"region", `"FR"`, "Région des numéros écrits sans indicatif (« 06 12 34 56 78 ») : FR pour la métropole ; outre-mer GP (+590), MQ (+596), GF (+594), RE ou YT (+262)."},
		{"max_clock_skew", `"5m"`, "Écart toléré entre l'horloge du système et l'heure du réseau lue sur le modem ; au-delà, l'état est dégradé et les alertes, messages et journal sont datés à l'heure du réseau. Entre 1m et 24h."},
	}},
	{"[store]", "La base de données.", []configKey{
		{"path", `"/var/lib/vigie/vigie.db"`, "Fichier de la base (bbolt), créé en mode 0600."},
		{"key_file", "suppression.key à côté de la base", "Clé des empreintes de la liste d'opposition (numéros effacés). Hors de la base, à sauvegarder à part : sans elle, le démon refuse une base qui contient des numéros effacés."},
	}},
	{"[api]", "L'interface locale du démon.", []configKey{
		{"socket", `"/run/vigie/vigie.sock"`, "Socket Unix que la commande vigie appelle (mode 0660, groupe vigie)."},
	}},
	{"[[modem]]", "Un tableau par modem ; au moins un. Avec plusieurs modems, les envois se répartissent entre ceux qui vont bien.", []configKey{
		{"name", "obligatoire", "Nom du modem dans le journal, l'état et les comptes rendus ; unique."},
		{"device", "obligatoire", `Port série AT du modem ; la règle udev du paquet le nomme "/dev/vigie-modem0".`},
		{"baud", "115200", "Vitesse du port série."},
		{"rate_per_minute", "10", "Cadence d'envoi soutenue, en parties de SMS par minute (un modem envoie un SMS en 3 à 10 s)."},
		{"burst", "1", "Parties envoyées d'affilée avant que la cadence ne s'applique."},
		{"daily_cap", "2000", "Parties envoyées au plus par jour : rester dans ce que permet le forfait de la carte SIM."},
		{"pin", "aucun", "Code PIN de la carte SIM (4 à 8 chiffres), lisible par tout le groupe vigie. Sous systemd, laisser pin et pin_file vides et mettre le code dans /etc/vigie/pin. Jamais les deux. Un code faux n'est jamais réessayé."},
		{"pin_file", "aucun", "Fichier contenant le code PIN, lisible par l'utilisateur du service."},
		{"command_timeout", `"5s"`, "Durée maximale d'une commande AT ; un modem muet plus longtemps est fermé et rouvert (puis réinitialisé si cela se répète)."},
		{"send_timeout", `"90s"`, "Durée maximale de l'envoi d'une partie ; un envoi sans réponse a pu partir : il est refait une fois au plus et marqué incertain."},
	}},
	{"[sms]", "Le texte des alertes.", []configKey{
		{"prefix", `""`, "Texte mis avant chaque alerte."},
		{"signature", `""`, "Texte mis après chaque alerte, séparé du texte par la ponctuation qui convient."},
		{"max_parts", "3", "Une alerte plus longue que ce nombre de parties est refusée avant toute mise en file (153 caractères par partie, 67 en UCS-2)."},
		{"transliterate", "true", "Remplacer les caractères hors de l'alphabet GSM par leur forme la plus proche (ê→e, ç→c, « »→\") pour que le texte ne parte pas en UCS-2 (70 caractères par SMS au lieu de 160)."},
		{"alert_ttl", `"4h"`, "Durée pendant laquelle un message peut attendre son envoi ; plus vieux, il expire au lieu de partir en retard. Fixe aussi la durée de validité du SMS. Entre 5m et 63 semaines."},
		{"monthly_recipients_warn", "0", "Les forfaits « illimités » plafonnent aussi le nombre de numéros distincts par mois : vigie status et le journal préviennent à 90 % de ce nombre. 0 : pas d'alerte."},
		{"concat_window", `"1h"`, "Délai dans lequel les parties d'un long SMS reçu d'un même expéditeur sont réunies ; au-delà, le message arrive dans la boîte de réception marqué incomplet. Entre 1s et 24h."},
	}},
	{"[keywords]", "Les SMS reçus des commerçants (INSCRIPTION, STOP, OUI, AIDE).", []configKey{
		{"subscription", `"confirm"`, `Effet d'un SMS INSCRIPTION : "confirm", la passerelle répond par un code et l'inscription vaut quand le même téléphone répond OUI et le code ; "approval", en attente jusqu'à ce qu'un opérateur la valide (vigie subscribers approve) ; "open", inscrit tout de suite.`},
		{"replies_per_day", "8", "Réponses automatiques au plus par numéro et par jour (0 : jamais, sauf la confirmation d'un STOP, comptée à part). Empêche deux automates de se répondre sans fin et un faussaire de faire écrire la passerelle à quelqu'un."},
		{"reply_share", "0.2", "Part de rate_per_minute et de daily_cap de chaque modem que les réponses automatiques peuvent prendre (0 < part ≤ 1) : au-delà, les réponses attendent et les alertes passent."},
	}},
	{"[led]", "Le voyant d'état.", []configKey{
		{"path", `""`, `LED de classe Linux, par exemple "/sys/class/leds/ACT" ; vide : pas de voyant. Les clignotements sont décrits dans vigie(1), section VOYANT.`},
	}},
	{"[log]", "Le journal.", []configKey{
		{"level", `"info"`, `Niveau de détail : "debug", "info", "warn" ou "error". Les numéros de téléphone sont masqués à partir de "info".`},
	}},
	{"[backup]", "La copie de nuit de la base, prise pendant que le démon tourne.", []configKey{
		{"dir", "backups à côté de la base", "Répertoire des copies vigie-AAAAMMJJ.db (mode 0600). vigie backup FICHIER prend une copie à tout moment."},
		{"keep", "7", "Copies gardées ; les plus anciennes sont supprimées. 0 : pas de copie de nuit."},
		{"at", `"03:00"`, "Heure locale de la copie, HH:MM."},
	}},
	{"[retention]", "La durée de conservation (RGPD).", []configKey{
		{"months", "12", "Les SMS reçus, l'historique des messages envoyés et le journal d'audit plus vieux que ce nombre de mois sont purgés ; le journal d'audit reste vérifiable à partir du dernier enregistrement purgé (vigie audit verify). Les abonnés, les alertes et leurs comptes restent. 0 : tout garder."},
	}},
	{"[canary]", "Le SMS témoin quotidien.", []configKey{
		{"number", "aucun", "Mobile d'un technicien : chaque jour à l'heure dite, la passerelle lui envoie un SMS de test et vérifie son accusé de réception. Non remis en 30 minutes, ou en échec : état dégradé jusqu'au suivant. Sans numéro, pas de témoin."},
		{"at", `"09:00"`, "Heure locale du SMS témoin, HH:MM."},
	}},
	{"[inbox]", "Les réponses des commerçants aux alertes.", []configKey{
		{"witness_window", `"24h"`, "Un SMS qu'un commerçant envoie dans ce délai après avoir reçu le SMS d'une alerte (remis, sinon envoyé) est une réponse à cette alerte : vigie alert show la montre, le rapport la compte. \"0\" : jamais."},
		{"forward_to", "aucun", "Téléphones de permanence auxquels chaque réponse à une alerte est transférée par SMS, avec le nom du commerce (ou son métier et ses zones), son numéro et le numéro de l'alerte."},
		{"forward_per_hour", "10", "Réponses transférées au plus par heure ; au-delà, elles restent dans la boîte de réception."},
	}},
	{"[[zone]]", "Un tableau par zone. Un commerçant s'inscrit par SMS (INSCRIPTION zone) avec l'identifiant, le nom ou un alias d'une zone (casse, accents, espaces et tirets ne comptent pas). Une alerte à une zone atteint aussi les zones qu'elle contient. Aucun mot ne peut désigner deux zones.", []configKey{
		{"id", "obligatoire", "Identifiant : minuscules, chiffres, tirets simples (macon-centre)."},
		{"name", "obligatoire", "Nom montré aux opérateurs et dans les réponses par SMS."},
		{"parent", "aucun", "Identifiant de la zone qui la contient."},
		{"aliases", "aucun", "Autres mots et codes postaux acceptés par SMS, par exemple [\"MACON\", \"71000\"]."},
	}},
	{"[[trade]]", "Un tableau par métier, second attribut facultatif d'un abonné (INSCRIPTION zone métier) : une alerte peut viser des métiers, des zones ou les deux. Mêmes clés que les zones, sans parent.", []configKey{
		{"id", "obligatoire", "Identifiant : minuscules, chiffres, tirets simples (tabac-presse)."},
		{"name", "obligatoire", "Nom montré aux opérateurs et dans les réponses par SMS."},
		{"aliases", "aucun", "Autres mots acceptés par SMS, par exemple [\"TABAC\", \"BURALISTE\"]."},
	}},
}

const configExample = `[station]
name = "CORG 71 Charnay-lès-Mâcon"

[[modem]]
name = "m1"
device = "/dev/vigie-modem0"

[sms]
prefix = "Vigilance commerce 71 : "
signature = " Gendarmerie. STOP pour ne plus recevoir."

[led]
path = "/sys/class/leds/ACT"

[[zone]]
id = "macon"
name = "Mâcon"
aliases = ["MACON", "71000"]

[[zone]]
id = "macon-centre"
name = "Mâcon centre"
parent = "macon"`

func writeConfigPage(w io.Writer) error {
	var p manPage
	p.header("vigie.toml", "5")
	p.section("NOM")
	p.line("vigie.toml \\- configuration de la passerelle d'alertes SMS Vigie")
	p.section("SYNOPSIS")
	p.line("/etc/vigie/vigie.toml")
	p.section("DESCRIPTION")
	p.text(`Un seul fichier TOML, lu par vigie serve au démarrage. Une clé inconnue ou une valeur fausse est une erreur qui nomme la clé et sa ligne : vigie config check les dit toutes avant un redémarrage (sudo vigie config check && sudo systemctl restart vigie).

Une clé absente prend la valeur par défaut indiquée. Les durées s'écrivent "90s", "5m", "4h" ; les heures "HH:MM", heure locale. Le fichier de référence, commenté, est /etc/vigie/vigie.toml tel que le paquet l'installe.`)
	for _, t := range configTables {
		p.section("TABLE " + t.name)
		p.text(t.desc)
		for _, k := range t.keys {
			switch k.def {
			case "obligatoire":
				p.item(k.key, k.desc+" Obligatoire.")
			case "aucun":
				p.item(k.key, k.desc+" Facultatif, sans valeur par défaut.")
			default:
				p.item(k.key, k.desc+" Défaut : "+k.def+".")
			}
		}
	}
	p.section("EXEMPLES")
	p.text("Le minimum pour une brigade, un modem et deux zones :")
	p.verbatim(configExample)
	p.section("FICHIERS")
	p.item("/etc/vigie/vigie.toml", "ce fichier (conservé à la mise à jour du paquet).")
	p.item("/etc/vigie/pin", "le code PIN de la carte SIM, lisible par root seul.")
	p.section("VOIR AUSSI")
	p.line("\\fBvigie\\fR(1), \\fBvigie\\-config\\-check\\fR(1), \\fBvigie\\-serve\\fR(1)")
	_, err := io.WriteString(w, p.b.String())
	return err
}
