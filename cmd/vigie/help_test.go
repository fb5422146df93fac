package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"vigie/gateway/apitype"
)

// visibleCommands is every command a user can see under root, root and the
// help command included, by command path.
func visibleCommands(root *cobra.Command) []*cobra.Command {
	root.InitDefaultHelpCmd()
	var out []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		out = append(out, c)
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				walk(sub)
			}
		}
	}
	walk(root)
	return out
}

// frameworkLeftovers are what cobra and pflag print in English and must
// never reach a French reader.
var frameworkLeftovers = []string{"[flags]", " string ", " strings ", " duration ", " int ", " float64 ", "Help about", "help for", "version for", "(default", "Usage:", "Flags:", "Available Commands", "Examples:", "Aliases:", "Global Flags"}

func TestEveryCommandHasExampleAndFrenchUsage(t *testing.T) {
	for _, c := range visibleCommands(newRootCommand(&globalOptions{})) {
		path := c.CommandPath()
		t.Run(path, func(t *testing.T) {
			if strings.TrimSpace(c.Example) == "" {
				t.Errorf("%s has no example", path)
			}
			args := append(strings.Fields(path)[1:], "--help")
			out, errOut, code := runCLI(t, args...)
			if code != exitOK {
				t.Fatalf("%s --help: exit %d, stderr %q", path, code, errOut)
			}
			for _, s := range []string{"Utilisation :\n  " + path, "Exemples :\n", "Options :\n", "  -h, --help   ", "cette aide\n"} {
				if !strings.Contains(out, s) {
					t.Errorf("%s --help lacks %q:\n%s", path, s, out)
				}
			}
			for _, s := range frameworkLeftovers {
				if strings.Contains(out+" ", s) {
					t.Errorf("%s --help shows %q:\n%s", path, s, out)
				}
			}
		})
	}
}

func TestMaxArgsInFrench(t *testing.T) {
	_, errOut, code := runCLI(t, "subscribers", "export", "a.csv", "b.csv")
	if code != exitUsage || errOut != "vigie : « vigie subscribers export » attend au plus 1 argument, 2 donnés\n(voir vigie subscribers export --help)\n" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestHelpOptionsInFrench pins how an option and its value read.
func TestHelpOptionsInFrench(t *testing.T) {
	out, _, _ := runCLI(t, "alert", "send", "--help")
	for _, s := range []string{
		"  vigie alert send (--zone ZONE… | --all) [--trade MÉTIER…] [--category CATÉGORIE] [--yes] [--wait] [TEXTE | -] [options]\n",
		"      --zone ZONE            zone visée (répétable) ; ses sous-zones sont incluses\n",
		"      --interval DURÉE       avec --wait : intervalle de rafraîchissement (défaut : 1s)\n",
		"      --socket CHEMIN   socket du démon (variable VIGIE_SOCKET) (défaut : /run/vigie/vigie.sock)\n",
		"Alias :\n  send, envoyer\n",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("alert send --help lacks %q:\n%s", s, out)
		}
	}
	out, _, _ = runCLI(t, "--help")
	for _, s := range []string{"  help        Aide d'une commande\n", "  -v, --version         version de vigie\n", "« vigie COMMANDE --help » pour l'aide d'une commande.\n"} {
		if !strings.Contains(out, s) {
			t.Errorf("--help lacks %q:\n%s", s, out)
		}
	}
}

func TestHelpCommand(t *testing.T) {
	want, _, _ := runCLI(t, "alert", "send", "--help")
	for _, args := range [][]string{{"help", "alert", "send"}, {"aide", "alerte", "envoyer"}} {
		out, errOut, code := runCLI(t, args...)
		if code != exitOK || out != want {
			t.Errorf("%v: exit %d, stderr %q, output differs from alert send --help:\n%s", args, code, errOut, out)
		}
	}
	_, errOut, code := runCLI(t, "help", "alrte")
	if code != exitUsage || !strings.Contains(errOut, "pas d'aide pour « alrte » : commande inconnue (« vigie --help » les liste)") {
		t.Errorf("help alrte: exit %d, stderr %q", code, errOut)
	}
}

// shellWords splits an example line the way a shell would for what the
// test needs: words, double- and single-quoted strings; it stops at a
// comment, a redirection, a pipe or a command substitution.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case ch == '"' || ch == '\'':
			j := strings.IndexByte(line[i+1:], ch)
			if j < 0 {
				j = len(line) - i - 1
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case ch == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case (ch == '#' || ch == '<' || ch == '>' || ch == '|') && !inWord:
			return words
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// checkCommandLine parses a shell line as the CLI would: the command, its
// aliases and its options must exist, so what a reader copies runs.
func checkCommandLine(t *testing.T, where, line string) {
	t.Helper()
	// source <(vigie completion bash) runs vigie completion bash.
	line = strings.NewReplacer("source <(", "", ")", "").Replace(line)
	for _, part := range strings.Split(line, ";") {
		words := shellWords(strings.TrimSpace(part))
		if len(words) > 0 && words[0] == "sudo" {
			words = words[1:]
		}
		if len(words) == 0 || words[0] != "vigie" {
			continue
		}
		// A fresh tree per line: parsing sets flags.
		root := newRootCommand(&globalOptions{})
		root.InitDefaultHelpCmd()
		found, rest, err := root.Find(words[1:])
		if err != nil {
			t.Errorf("%s: %q: %v", where, part, err)
			continue
		}
		if found.HasSubCommands() && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") && found.Name() != "help" {
			t.Errorf("%s: %q: %q is no command of %s", where, part, rest[0], found.CommandPath())
		}
		if err := found.ParseFlags(rest); err != nil {
			t.Errorf("%s: %q: %v", where, part, err)
		}
	}
}

// TestExamplesAreValidCommands: every example is a real command line.
func TestExamplesAreValidCommands(t *testing.T) {
	for _, c := range visibleCommands(newRootCommand(&globalOptions{})) {
		for _, line := range strings.Split(c.Example, "\n") {
			words := shellWords(strings.TrimSpace(line))
			if len(words) > 0 && words[0] != "vigie" && words[0] != "sudo" && words[0] != "source" {
				t.Errorf("%s: example %q does not run vigie", c.CommandPath(), line)
			}
			checkCommandLine(t, c.CommandPath(), line)
		}
	}
}

// documents are the French documents shipped in /usr/share/doc/vigie.
var documents = []string{"../../configs/doc/guide-installation.md", "../../configs/doc/fiche-operateur.md"}

// TestDocumentsCommandsAreValid: each vigie command the guide and the card
// show, in a code block or inline, is a real command line, and each has the
// parts its reader needs.
func TestDocumentsCommandsAreValid(t *testing.T) {
	inline := regexp.MustCompile("`((?:sudo )?vigie [^`]+)`")
	for _, doc := range documents {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		n, block := 0, false
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "```") {
				block = !block
				continue
			}
			if block {
				n++
				checkCommandLine(t, doc, line)
				continue
			}
			for _, m := range inline.FindAllStringSubmatch(line, -1) {
				n++
				checkCommandLine(t, doc, strings.ReplaceAll(m[1], "…", "x"))
			}
		}
		if n < 5 {
			t.Errorf("%s: only %d commands found", doc, n)
		}
	}
	want := map[string][]string{
		documents[0]: {"## 1. Le matériel", "## 2. La carte SIM et la ligne", "## 3. Installer le paquet", "## 4. Le modem et udev", "## 5. Le voyant", "## 6. Premières vérifications", "## 7. Dépannage d'après le voyant", "**Clignotement lent (dégradé).**", "**Clignotement très rapide (panne).**", "M2M ou A2P", "HiLink"},
		documents[1]: {"## Envoyer une alerte", "## Suivre une alerte", "## Annuler", "## Fin d'alerte (suite)", "## Ce que dit le voyant", "vigie alerte envoyer --zone", "vigie alerte voir 12", "vigie alerte annuler 12", "vigie alerte suite 12"},
	}
	for doc, parts := range want {
		b, _ := os.ReadFile(doc)
		for _, p := range parts {
			if !strings.Contains(string(b), p) {
				t.Errorf("%s lacks %q", doc, p)
			}
		}
	}
	// The card fits one printed page.
	if b, _ := os.ReadFile(documents[1]); strings.Count(string(b), "\n") > 80 {
		t.Errorf("the operator's card is %d lines: more than a page", strings.Count(string(b), "\n"))
	}
}

// TestReadmeLinksStayInTheRepository: the README sends its reader only to
// files that exist here.
func TestReadmeLinksStayInTheRepository(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(`\]\(([^)]+)\)`).FindAllStringSubmatch(string(b), -1)
	seen := map[string]bool{}
	for _, m := range links {
		target := m[1]
		if strings.Contains(target, "://") {
			t.Errorf("README links outside the repository: %s", target)
			continue
		}
		if _, err := os.Stat(filepath.Join("../..", target)); err != nil {
			t.Errorf("README links to a missing file: %s", target)
		}
		seen[target] = true
	}
	for _, doc := range []string{"configs/doc/guide-installation.md", "configs/doc/fiche-operateur.md"} {
		if !seen[doc] {
			t.Errorf("README does not link %s", doc)
		}
	}
}

// TestFrenchAliases: the French names resolve at every level, with and
// without accents, to the English command.
func TestFrenchAliases(t *testing.T) {
	root := newRootCommand(&globalOptions{})
	root.InitDefaultHelpCmd()
	for typed, want := range map[string]string{
		"alerte envoyer":         "vigie alert send",
		"alerte aperçu":          "vigie alert preview",
		"alerte apercu":          "vigie alert preview",
		"alerte liste":           "vigie alert list",
		"alerte voir":            "vigie alert show",
		"alerte annuler":         "vigie alert cancel",
		"alerte suite":           "vigie alert followup",
		"alerte essai":           "vigie alert test",
		"abonnes liste":          "vigie subscribers list",
		"abonnés liste":          "vigie subscribers list",
		"abonnés ajouter":        "vigie subscribers add",
		"abonnés valider":        "vigie subscribers approve",
		"abonnés retirer":        "vigie subscribers remove",
		"abonnés importer":       "vigie subscribers import",
		"abonnés exporter":       "vigie subscribers export",
		"abonnés voir":           "vigie subscribers show",
		"messages liste":         "vigie inbox list",
		"messages voir":          "vigie inbox show",
		"messages lu":            "vigie inbox read",
		"état":                   "vigie status",
		"etat":                   "vigie status",
		"journal vérifier":       "vigie audit verify",
		"configuration vérifier": "vigie config check",
		"config verifier":        "vigie config check",
		"modem diagnostic":       "vigie modem probe",
		"sauvegarde":             "vigie backup",
		"démon":                  "vigie serve",
		"démo":                   "vigie demo",
		"simulateur":             "vigie sim",
		"autocomplétion bash":    "vigie completion bash",
		"aide":                   "vigie help",
		"alert envoyer":          "vigie alert send",
		"subscribers liste":      "vigie subscribers list",
	} {
		c, rest, err := root.Find(strings.Fields(typed))
		if err != nil || len(rest) > 0 || c.CommandPath() != want {
			got := "?"
			if c != nil {
				got = c.CommandPath()
			}
			t.Errorf("%q → %s (rest %v, %v); want %s", typed, got, rest, err, want)
		}
	}
}

// TestFrenchAliasRuns: an alias runs the command itself, against a daemon.
func TestFrenchAliasRuns(t *testing.T) {
	d := &fakeDaemon{}
	socket := serveFake(t, d)
	out, errOut, code := opsRun{}.run(t, socket, "alerte", "envoyer", "--zone", "macon", "--yes", "vol rue Carnot")
	if code != exitOK {
		t.Fatalf("alerte envoyer: exit %d, stderr %q, out %q", code, errOut, out)
	}
	if len(d.sent) != 1 || d.sent[0].Text != "vol rue Carnot" || strings.Join(d.sent[0].Zones, ",") != "macon" {
		t.Errorf("sent %+v", d.sent)
	}
}

// completionDaemon adds the alert list and the inbox to the fake daemon.
type completionDaemon struct{ *fakeDaemon }

func (completionDaemon) Alerts() ([]apitype.Alert, error) {
	return []apitype.Alert{
		{ID: 3, CreatedAt: fakeAt, Text: "vol rue Carnot"},
		{ID: 4, CreatedAt: fakeAt, Text: "faux billets\x1b[2J\nde 50"},
	}, nil
}

func (completionDaemon) Inbox() ([]apitype.InboxMessage, error) {
	return []apitype.InboxMessage{{ID: 9, Text: "merci\tpour l'alerte"}}, nil
}

// completions runs the shell's hidden __complete request and returns the
// candidates and the directive line.
func completions(t *testing.T, socket string, args ...string) ([]string, string) {
	t.Helper()
	out, errOut, code := opsRun{}.run(t, socket, append([]string{"__complete"}, args...)...)
	if code != exitOK {
		t.Fatalf("__complete %v: exit %d, stderr %q", args, code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	return lines[:len(lines)-1], lines[len(lines)-1]
}

const noFiles = ":4" // cobra.ShellCompDirectiveNoFileComp

func TestCompletionFromDaemon(t *testing.T) {
	socket := serveFakeBackend(t, completionDaemon{&fakeDaemon{}})
	at := fakeAt.Local().Format("02/01 15:04")
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"alert", "send", "--zone", ""}, []string{"macon\tMâcon", "macon-centre\tMâcon centre"}},
		{[]string{"alerte", "envoyer", "--zone", "macon-"}, []string{"macon-centre\tMâcon centre"}},
		{[]string{"alert", "preview", "--zone", "macon", "--trade", ""}, []string{"tabac-presse\tTabac-presse"}},
		{[]string{"subscribers", "add", "0612345678", "--zone", ""}, []string{"macon\tMâcon", "macon-centre\tMâcon centre"}},
		{[]string{"abonnés", "liste", "--trade", "t"}, []string{"tabac-presse\tTabac-presse"}},
		// Newest first; outside text made inert and kept on one line.
		{[]string{"alert", "show", ""}, []string{"4\t" + at + ` faux billets\u001b[2J↵de 50`, "3\t" + at + " vol rue Carnot"}},
		{[]string{"alert", "followup", "3"}, []string{"3\t" + at + " vol rue Carnot"}},
		{[]string{"alert", "followup", "3", ""}, nil}, // the text: nothing to propose
		{[]string{"alert", "cancel", ""}, []string{"4\t" + at + ` faux billets\u001b[2J↵de 50`, "3\t" + at + " vol rue Carnot"}},
		{[]string{"messages", "lu", ""}, []string{`9	merci\u0009pour l'alerte`}},
		{[]string{"alert", "send", "--category", ""}, []string{"vol", "escroquerie", "fausse-monnaie", "autre"}},
		{[]string{"status", ""}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, directive := completions(t, socket, tt.args...)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") || directive != noFiles {
				t.Errorf("got %q %s; want %q %s", got, directive, tt.want, noFiles)
			}
		})
	}
}

// TestCompletionDaemonDown: no daemon, no candidates, no message, and still
// no file names for a zone or an id.
func TestCompletionDaemonDown(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "absent.sock")
	for _, args := range [][]string{{"alert", "send", "--zone", ""}, {"alert", "send", "--trade", ""}, {"alert", "show", ""}} {
		got, directive := completions(t, socket, args...)
		if len(got) != 0 || directive != noFiles {
			t.Errorf("%v: got %q %s; want nothing and %s", args, got, directive, noFiles)
		}
	}
}

// TestCompletionFilesWhereFilesGo: the commands that take a file still
// complete file names.
func TestCompletionFilesWhereFilesGo(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "absent.sock")
	for _, args := range [][]string{{"backup", ""}, {"subscribers", "import", ""}, {"config", "check", "--config", ""}} {
		_, directive := completions(t, socket, args...)
		if directive != ":0" {
			t.Errorf("%v: directive %s; want :0 (files)", args, directive)
		}
	}
}

// manSections are the sections every command's page has, in French.
var manSections = []string{".SH NOM\n", ".SH SYNOPSIS\n", ".SH DESCRIPTION\n", ".SH EXEMPLES\n", ".SH CODES DE RETOUR\n", ".SH VOIR AUSSI\n"}

var manLeftovers = []string{".SH NAME", "SEE ALSO", ".SH EXAMPLE\n", "OPTIONS INHERITED", ".SH HISTORY", "[flags]", " string", " duration", "Auto generated", "help for", "Help about", "version for", "(default"}

func genMan(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("SOURCE_DATE_EPOCH", "1767225600")
	if _, errOut, code := runCLI(t, "gendocs", "--man", dir); code != exitOK {
		t.Fatalf("gendocs: exit %d, stderr %q", code, errOut)
	}
	return dir
}

func TestManPagesFrench(t *testing.T) {
	dir := genMan(t)
	pages, err := filepath.Glob(filepath.Join(dir, "*.1"))
	if err != nil || len(pages) < 30 {
		t.Fatalf("pages %v, %v", pages, err)
	}
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		for _, s := range manSections {
			if !strings.Contains(page, s) {
				t.Errorf("%s lacks %q", filepath.Base(p), s)
			}
		}
		for _, s := range manLeftovers {
			if strings.Contains(page, s) {
				t.Errorf("%s shows %q", filepath.Base(p), s)
			}
		}
		if strings.Contains(page, "\\fB\\-\\-") && !strings.Contains(page, ".SH OPTIONS") {
			t.Errorf("%s: options without an OPTIONS section", filepath.Base(p))
		}
	}

	send, _ := os.ReadFile(filepath.Join(dir, "vigie-alert-send.1"))
	for _, s := range []string{
		`.TH "VIGIE-ALERT-SEND" "1" "2026-01-01" "Vigie dev" "Manuel de Vigie"`,
		"vigie\\-alert\\-send \\- Prévisualiser, confirmer et mettre en file une alerte\n",
		".SH OPTIONS\n", ".SH OPTIONS COMMUNES\n",
		"\\fB\\-\\-zone\\fR \\fIZONE\\fR\nzone visée (répétable) ; ses sous\\-zones sont incluses\n",
		"vigie alerte envoyer \\-\\-zone macon\\-centre",
		"Aussi : envoyer.\n",
	} {
		if !strings.Contains(string(send), s) {
			t.Errorf("vigie-alert-send.1 lacks %q:\n%s", s, send)
		}
	}
}

func TestManVigie1(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(genMan(t), "vigie.1"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, s := range []string{
		".SH VOYANT\n", ".SH FICHIERS\n", ".SH DIAGNOSTIC\n", ".SH ENVIRONNEMENT\n", ".SH COMMANDES\n",
		"Vigie est la passerelle d'alertes SMS d'un dispositif « Vigilance\ncommerce »",
		// SPEC §8, each pattern and its meaning.
		"\\fBclignotement rapide (100 ms allumé, 100 ms éteint)\\fR\ndémarrage",
		"\\fBallumé fixe\\fR\nprêt",
		"\\fBclignotement régulier (500 ms, 500 ms)\\fR\nenvoi en cours",
		"\\fBclignotement lent (100 ms allumé, 1,9 s éteint)\\fR\ndégradé : pas de réseau",
		"\\fBclignotement très rapide (50 ms allumé, 150 ms éteint)\\fR\npanne : pas de modem, carte SIM verrouillée ou absente",
		"\\fBéteint\\fR\ndémon arrêté",
		// SPEC §11 exit codes.
		"\\fB0\\fR\nsuccès", "\\fB2\\fR\nmauvaise utilisation", "\\fB3\\fR\nle démon ne répond pas", "\\fB4\\fR\naccès refusé",
		"\\fB/etc/vigie/vigie.toml\\fR", "\\fB/var/lib/vigie/vigie.db\\fR", "\\fB/dev/vigie\\-modem0\\fR", "\\fB/usr/share/doc/vigie/\\fR",
		"sudo vigie modem probe", "\\fBvigie.toml\\fR(5)",
		"« vigie status \\-\\-check » a ses propres codes : 0 en service, 1 dégradé ou en démarrage, 2 hors service ou démon injoignable",
	} {
		if !strings.Contains(page, s) {
			t.Errorf("vigie.1 lacks %q", s)
		}
	}
}

// TestManConfigEveryKey: vigie.toml(5) documents every key gateway/config
// decodes and every key of the reference file, under its own table.
func TestManConfigEveryKey(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(genMan(t), "vigie.toml.5"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, s := range []string{`.TH "VIGIE.TOML" "5"`, ".SH NOM\n", ".SH DESCRIPTION\n", ".SH EXEMPLES\n", ".SH FICHIERS\n", ".SH VOIR AUSSI\n"} {
		if !strings.Contains(page, s) {
			t.Errorf("vigie.toml.5 lacks %q", s)
		}
	}
	// Sections of the page by table.
	tables := map[string]string{}
	for _, sec := range strings.Split(page, ".SH TABLE ")[1:] {
		name, body, _ := strings.Cut(sec, "\n")
		tables[name] = body
	}

	src, err := os.ReadFile("../../gateway/config/validate.go")
	if err != nil {
		t.Fatal(err)
	}
	tags := regexp.MustCompile(`toml:"(\w+)"`).FindAllStringSubmatch(string(src), -1)
	if len(tags) < 40 {
		t.Fatalf("only %d toml tags found in gateway/config", len(tags))
	}
	for _, m := range tags {
		if !strings.Contains(page, "\\fB"+roffEscape(m[1])+"\\fR") && tables["["+m[1]+"]"] == "" && tables["[["+m[1]+"]]"] == "" {
			t.Errorf("vigie.toml.5 does not document %q", m[1])
		}
	}

	ref, err := os.ReadFile("../../configs/vigie.toml")
	if err != nil {
		t.Fatal(err)
	}
	header := regexp.MustCompile(`^(\[\[?[a-z]+\]\]?)$`)
	key := regexp.MustCompile(`^#? ?([a-z_]+) = `)
	table, n := "", 0
	for _, line := range strings.Split(string(ref), "\n") {
		if m := header.FindStringSubmatch(line); m != nil {
			table = m[1]
			if _, ok := tables[table]; !ok {
				t.Errorf("vigie.toml.5 has no section for %s", table)
			}
			continue
		}
		if m := key.FindStringSubmatch(line); m != nil && table != "" {
			n++
			if !strings.Contains(tables[table], "\\fB"+roffEscape(m[1])+"\\fR") {
				t.Errorf("vigie.toml.5 does not document %s %s", table, m[1])
			}
		}
	}
	if n < 40 {
		t.Errorf("only %d keys read from configs/vigie.toml", n)
	}
}

// TestUseLinesNameValuesLikeOptions: a usage line names an option's value as
// the option list does (« --zone ZONE… » and « --zone ZONE »).
func TestUseLinesNameValuesLikeOptions(t *testing.T) {
	opt := regexp.MustCompile(`--([a-z-]+) ([A-ZÉÈ]+)`)
	for _, c := range visibleCommands(newRootCommand(&globalOptions{})) {
		for _, m := range opt.FindAllStringSubmatch(c.Use, -1) {
			f := c.Flags().Lookup(m[1])
			if f == nil {
				t.Errorf("%s: usage names --%s, which it has not", c.CommandPath(), m[1])
				continue
			}
			if flagArg(f) != m[2] {
				t.Errorf("%s: usage says --%s %s, options say %s", c.CommandPath(), m[1], m[2], flagArg(f))
			}
		}
	}
}

// A misspelt command after « help » gets the same suggestion as the command
// itself would.
func TestHelpSuggests(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "alret"}, "vigie : pas d'aide pour « alret » : commande inconnue (« vigie --help » les liste). Vouliez-vous dire « vigie alert » ?\n(voir vigie --help)\n"},
		{[]string{"aide", "alerte", "envoier"}, "vigie : pas d'aide pour « alerte envoier » : commande inconnue (« vigie --help » les liste). Vouliez-vous dire « vigie alert envoyer » ?\n(voir vigie --help)\n"},
		{[]string{"help", "zzzz"}, "vigie : pas d'aide pour « zzzz » : commande inconnue (« vigie --help » les liste)\n(voir vigie --help)\n"},
	} {
		_, errOut, code := runCLI(t, c.args...)
		if code != exitUsage || errOut != c.want {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errOut, c.want)
		}
	}
}
