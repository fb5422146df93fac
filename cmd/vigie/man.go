package main

// Man pages in French, written as roff by hand rather than by cobra/doc,
// whose sections are English (NAME, SEE ALSO…) and whose synopsis says
// "[flags]". One page per visible command, from the command tree (so a flag
// never drifts from its page), plus what only vigie(1) carries — the LED,
// the exit codes, the files, a diagnosis — and vigie.toml(5), every key of
// the configuration file.

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// manPage is the roff text of one page being written.
type manPage struct{ b strings.Builder }

// roffEscape makes s plain text for roff: a backslash is printed, a hyphen
// stays a hyphen (copyable options), and a line cannot start a request.
func roffEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}

func (p *manPage) line(format string, args ...any) { fmt.Fprintf(&p.b, format+"\n", args...) }

func (p *manPage) section(name string) { p.line(".SH %s", name) }

// text writes running text: paragraphs separated by blank lines; a
// paragraph indented by four spaces is a command, kept as it is.
func (p *manPage) text(s string) {
	for i, par := range strings.Split(strings.Trim(s, "\n"), "\n\n") {
		if strings.HasPrefix(par, "    ") {
			p.verbatim(strings.ReplaceAll(par, "\n    ", "\n")[4:])
			continue
		}
		if i > 0 {
			p.line(".PP")
		}
		p.line("%s", roffEscape(strings.TrimSpace(par)))
	}
}

// verbatim writes lines as they are (examples, commands).
func (p *manPage) verbatim(s string) {
	p.line(".PP\n.RS 4\n.nf")
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		p.line("%s", roffEscape(strings.TrimPrefix(l, "  ")))
	}
	p.line(".fi\n.RE")
}

// item writes one tagged paragraph: a term in bold, then its text.
func (p *manPage) item(term, desc string) {
	p.line(".TP\n\\fB%s\\fR", roffEscape(term))
	p.line("%s", roffEscape(desc))
}

func (p *manPage) flags(fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		term := "\\fB\\-\\-" + roffEscape(f.Name) + "\\fR"
		if f.Shorthand != "" {
			term = "\\fB\\-" + f.Shorthand + "\\fR, " + term
		}
		if a := flagArg(f); a != "" {
			term += " \\fI" + a + "\\fR"
		}
		desc := f.Usage
		if !zeroDefault(f) {
			desc += " (défaut : " + strings.Trim(f.DefValue, "[]") + ")"
		}
		p.line(".TP\n%s\n%s", term, roffEscape(desc))
	})
}

// manName is the page name of a command: "vigie alert send" → vigie-alert-send.
func manName(c *cobra.Command) string { return strings.ReplaceAll(c.CommandPath(), " ", "-") }

// manDate is the pages' date: SOURCE_DATE_EPOCH when set, so that two builds
// of one commit give the same pages.
func manDate() string {
	t := time.Now()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		var sec int64
		if _, err := fmt.Sscan(s, &sec); err == nil {
			t = time.Unix(sec, 0)
		}
	}
	return t.UTC().Format("2006-01-02")
}

func (p *manPage) header(name, section string) {
	p.line(`.TH "%s" "%s" "%s" "Vigie %s" "Manuel de Vigie"`, strings.ToUpper(name), section, manDate(), version)
	// No hyphenation: a keyword or an option cut in two cannot be copied.
	p.line(".nh\n.ad l")
}

// exitCodes are the codes of every command (SPEC §11).
var exitCodes = []struct{ code, desc string }{
	{"0", "succès"},
	{"1", "erreur (l'envoi, la base, la configuration… : le message dit quoi faire)"},
	{"2", "mauvaise utilisation : commande, option ou argument inconnu ou manquant"},
	{"3", "le démon ne répond pas (arrêté, ou mauvais socket : voir --socket)"},
	{"4", "accès refusé : l'utilisateur n'est pas dans le groupe vigie"},
}

// writeCommandPage writes the page of c.
func writeCommandPage(w io.Writer, c *cobra.Command) error {
	var p manPage
	p.header(manName(c), "1")
	p.section("NOM")
	p.line("%s \\- %s", roffEscape(manName(c)), roffEscape(c.Short))
	p.section("SYNOPSIS")
	if c.HasAvailableSubCommands() {
		p.line("\\fB%s\\fR \\fICOMMANDE\\fR [\\fIoptions\\fR]", roffEscape(c.CommandPath()))
	} else {
		p.line("\\fB%s\\fR", roffEscape(strings.TrimSuffix(useLine(c), " [options]")+" [options]"))
	}
	p.section("DESCRIPTION")
	if c.Long != "" {
		p.text(c.Long)
	} else {
		p.text(c.Short + ".")
	}
	if len(c.Aliases) > 0 {
		p.line(".PP")
		p.line("%s", roffEscape("Aussi : "+strings.Join(c.Aliases, ", ")+"."))
	}
	if c == c.Root() {
		writeRootDescription(&p)
	}
	if c.HasAvailableSubCommands() {
		p.section("COMMANDES")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				p.item(sub.Name(), sub.Short+" ; voir "+manName(sub)+"(1).")
			}
		}
	}
	if c.HasAvailableLocalFlags() {
		p.section("OPTIONS")
		p.flags(c.LocalFlags())
	}
	if c.HasAvailableInheritedFlags() {
		p.section("OPTIONS COMMUNES")
		p.flags(c.InheritedFlags())
	}
	if c.Example != "" {
		p.section("EXEMPLES")
		p.verbatim(c.Example)
	}
	if c == c.Root() {
		writeRootSections(&p)
	}
	p.section("CODES DE RETOUR")
	for _, e := range exitCodes {
		p.item(e.code, e.desc)
	}
	if c.Name() == "status" || !c.HasParent() {
		p.line(".PP")
		p.line("%s", "Pour la supervision, « vigie status \\-\\-check » a ses propres codes : 0 en service, 1 dégradé ou en démarrage, 2 hors service ou démon injoignable ; il écrit une seule ligne.")
	}
	p.section("VOIR AUSSI")
	var see []string
	if c.HasParent() {
		see = append(see, manName(c.Parent()))
	}
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			see = append(see, manName(sub))
		}
	}
	var refs []string
	for _, name := range see {
		refs = append(refs, "\\fB"+roffEscape(name)+"\\fR(1)")
	}
	refs = append(refs, "\\fBvigie.toml\\fR(5)")
	p.line("%s", strings.Join(refs, ", "))
	_, err := io.WriteString(w, p.b.String())
	return err
}

const rootDescription = `Vigie est la passerelle d'alertes SMS d'un dispositif « Vigilance
commerce » : un petit ordinateur à la brigade, un modem 4G USB et sa carte
SIM, sans fournisseur de SMS. Les commerçants s'inscrivent par SMS
(INSCRIPTION zone, STOP pour se désinscrire) ; un gendarme compose une alerte
avec la commande vigie ; le démon la met en file sur disque et l'envoie à
chaque commerçant abonné de la zone, aussi vite que le modem et la ligne le
permettent, jamais plus vite.

Le démon (vigie serve) tourne sous systemd ; les autres commandes sont des
clients de son socket local et ne touchent ni à la base ni au modem, sauf
vigie modem probe et vigie config check, qui travaillent démon arrêté ou
sans lui.

Les sorties et les questions sont en français ; --json donne des champs
stables pour les scripts. Un texte venu de l'extérieur (SMS, fichier CSV,
réponses du modem) est toujours affiché inerte : un caractère de contrôle
apparaît sous la forme \u001b.`

func writeRootDescription(p *manPage) {
	p.line(".PP")
	p.text(rootDescription)
}

// ledPatterns are the states the status LED shows (SPEC §8) and what the
// technician does about each.
var ledPatterns = []struct{ pattern, state, todo string }{
	{"clignotement rapide (100 ms allumé, 100 ms éteint)", "démarrage : le démon démarre, le modem s'initialise", "attendre une minute."},
	{"allumé fixe", "prêt : modem inscrit sur le réseau, file vide", "rien."},
	{"clignotement régulier (500 ms, 500 ms)", "envoi en cours", "rien ; vigie alert show suit l'alerte."},
	{"clignotement lent (100 ms allumé, 1,9 s éteint)", "dégradé : pas de réseau ou signal faible, ligne qui refuse les SMS, plafond du jour atteint, un modem sur plusieurs en panne, SMS témoin non remis, horloge décalée", "vigie status dit lequel ; déplacer l'antenne, vérifier le forfait, timedatectl status."},
	{"clignotement très rapide (50 ms allumé, 150 ms éteint)", "panne : pas de modem, carte SIM verrouillée ou absente, modem muet, base en erreur ou disque plein", "voir DIAGNOSTIC."},
	{"éteint", "démon arrêté", "systemctl status vigie."},
}

// files are what the package installs or the daemon keeps.
var manFiles = []struct{ path, desc string }{
	{"/etc/vigie/vigie.toml", "la configuration ; voir vigie.toml(5)"},
	{"/etc/vigie/pin", "le code PIN de la carte SIM, lisible par root seul (umask 077), remis au démon par systemd"},
	{"/run/vigie/vigie.sock", "le socket du démon (groupe vigie) ; --socket ou VIGIE_SOCKET en donnent un autre"},
	{"/var/lib/vigie/vigie.db", "la base : abonnés, alertes, SMS, boîte de réception, journal d'audit (mode 0600)"},
	{"/var/lib/vigie/suppression.key", "la clé de la liste d'opposition : à sauvegarder à part, elle n'est dans aucune copie de la base"},
	{"/var/lib/vigie/backups/", "les copies de nuit de la base"},
	{"/dev/vigie-modem0", "le port AT du modem, nommé par la règle udev"},
	{"/lib/udev/rules.d/99-vigie-modem.rules", "la règle udev des modems connus"},
	{"/lib/systemd/system/vigie.service", "l'unité systemd"},
	{"/usr/share/doc/vigie/", "le guide d'installation du technicien et la fiche de l'opérateur"},
}

const diagnosis = `Dans cet ordre :

1. systemctl status vigie et journalctl -u vigie -n 50 : le démon dit ce qu'il fait (au démarrage, une ligne avec la version, la configuration, les modems et la base ; une ligne par alerte ; chaque erreur du modem).

2. vigie status : l'état de chaque modem, la carte SIM, le signal, le réseau, l'opérateur et la dernière erreur.

3. sudo systemctl stop vigie ; sudo vigie modem probe ; sudo systemctl start vigie : parle au modem directement et dit ce qui ne va pas (« SIM verrouillée : code PIN requis », « pas de réseau », « aucune réponse du modem », « port occupé par un autre programme (ModemManager ?) »).

4. ls -l /dev/vigie-modem0 : absent, le modem est débranché ou inconnu de la règle udev (voir ses commentaires pour en ajouter un).`

func writeRootSections(p *manPage) {
	p.section("VOYANT")
	p.text("Si [led] path désigne une LED (sur un Raspberry Pi, /sys/class/leds/ACT), elle montre l'état du démon ; vigie status montre le même.")
	for _, l := range ledPatterns {
		p.item(l.pattern, l.state+". À faire : "+l.todo)
	}
	p.section("ENVIRONNEMENT")
	p.item("VIGIE_SOCKET", "le socket du démon, à la place de "+defaultSocket+".")
	p.section("FICHIERS")
	for _, f := range manFiles {
		p.item(f.path, f.desc+".")
	}
	p.section("DIAGNOSTIC")
	p.text(diagnosis)
}

// writeManTree writes the page of root and of every visible command under
// it, and vigie.toml(5), into dir.
func writeManTree(root *cobra.Command, dir string) error {
	var walk func(c *cobra.Command) error
	walk = func(c *cobra.Command) error {
		if err := writeFile(filepath.Join(dir, manName(c)+".1"), func(w io.Writer) error { return writeCommandPage(w, c) }); err != nil {
			return err
		}
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				if err := walk(sub); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "vigie.toml.5"), writeConfigPage)
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("gendocs: %w", err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("gendocs: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("gendocs: %w", err)
	}
	return nil
}
