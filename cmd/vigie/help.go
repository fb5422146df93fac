package main

// The CLI's help as a French reader expects it: usage lines and option
// types in French (cobra and pflag print "[flags]", "string", "duration"),
// a French help command, French aliases at every level, an example for every
// command, and completion of zones, trades and ids asked of the daemon.
//
// Examples and aliases are kept in tables here rather than in each
// command's literal so that one place shows them all and a test can hold
// every command to them (help_test.go).

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"vigie/gateway/apitype"
	"vigie/gateway/client"
)

// frenchAliases are the French names of each command, by command path. The
// canonical names stay English (SPEC §11); a French speaker types either,
// with or without accents.
var frenchAliases = map[string][]string{
	"vigie alert":                 {"alerte"},
	"vigie alert preview":         {"apercu", "aperçu"},
	"vigie alert send":            {"envoyer"},
	"vigie alert show":            {"voir", "afficher"},
	"vigie alert list":            {"liste", "lister"},
	"vigie alert cancel":          {"annuler"},
	"vigie alert followup":        {"suite"},
	"vigie alert test":            {"essai"},
	"vigie audit":                 {"journal"},
	"vigie audit verify":          {"verifier", "vérifier"},
	"vigie backup":                {"sauvegarde", "sauvegarder"},
	"vigie completion":            {"autocompletion", "autocomplétion"},
	"vigie config":                {"configuration"},
	"vigie config check":          {"verifier", "vérifier"},
	"vigie demo":                  {"démo", "demonstration", "démonstration"},
	"vigie inbox":                 {"messages", "boite", "boîte"},
	"vigie inbox list":            {"liste", "lister"},
	"vigie inbox show":            {"voir", "afficher"},
	"vigie inbox read":            {"lu", "lire"},
	"vigie modem probe":           {"sonder", "diagnostic"},
	"vigie serve":                 {"demon", "démon"},
	"vigie sim":                   {"simulateur"},
	"vigie status":                {"etat", "état"},
	"vigie subscribers":           {"abonnes", "abonnés"},
	"vigie subscribers list":      {"liste", "lister"},
	"vigie subscribers show":      {"voir", "afficher"},
	"vigie subscribers add":       {"ajouter", "inscrire"},
	"vigie subscribers approve":   {"valider", "approuver"},
	"vigie subscribers remove":    {"retirer", "supprimer"},
	"vigie subscribers import":    {"importer"},
	"vigie subscribers export":    {"exporter"},
	"vigie rapport":               {"report"},
	"vigie completion bash":       nil,
	"vigie completion zsh":        nil,
	"vigie completion fish":       nil,
	"vigie completion powershell": nil,
}

// examples are what each command's help and man page show under
// « Exemples », by command path: real invocations a gendarme or a
// technician can copy, with the zones of configs/vigie.toml.
var examples = map[string]string{
	"vigie": `  vigie status                                   # le démon, le modem, la file
  vigie alerte envoyer --zone macon "vol à l'étalage rue Carnot"
  vigie alerte liste
  vigie abonnés liste --zone macon-centre`,
	"vigie alert": `  vigie alert send --zone macon "individu armé vu rue Carnot"
  vigie alert show 12
  vigie alerte liste`,
	"vigie alert preview": `  vigie alert preview --zone macon "faux billets de 50 euros en circulation"
  vigie alerte aperçu --all --trade bijouterie "bijoux volés : bague or et saphir"`,
	"vigie alert send": `  vigie alert send --zone macon "vol à l'étalage rue Carnot"
  vigie alerte envoyer --zone macon-centre --zone charnay --category vol --wait "voiture grise, 2 individus"
  vigie alert send --all --trade pharmacie --yes - < texte.txt
  vigie alert send --zone macon                  # sans texte : formulaire guidé`,
	"vigie alert show": `  vigie alert show 12
  vigie alerte voir 12 --json`,
	"vigie alert list": `  vigie alert list
  vigie alerte liste --json`,
	"vigie alert cancel": `  vigie alert cancel 12
  vigie alerte annuler 12`,
	"vigie alert followup": `  vigie alert followup 12 "fin d'alerte : individu interpellé"
  vigie alerte suite 12 --yes "fin d'alerte"`,
	"vigie alert test": `  vigie alert test --to "06 12 34 56 78"
  vigie alerte essai --to +33612345678 "essai de la passerelle"`,
	"vigie audit": `  vigie audit
  vigie audit --since 2026-01-01
  vigie journal --since 01/12/2026 --json`,
	"vigie audit verify": `  vigie audit verify
  vigie journal vérifier --json`,
	"vigie backup": `  vigie backup /media/usb/vigie-$(date +%F).db
  vigie sauvegarde /tmp/copie.db`,
	"vigie completion": `  source <(vigie completion bash)
  vigie completion fish | source`,
	"vigie completion bash": `  source <(vigie completion bash)
  vigie completion bash > /etc/bash_completion.d/vigie`,
	"vigie completion zsh": `  source <(vigie completion zsh)
  vigie completion zsh > "${fpath[1]}/_vigie"`,
	"vigie completion fish": `  vigie completion fish | source
  vigie completion fish > ~/.config/fish/completions/vigie.fish`,
	"vigie completion powershell": `  vigie completion powershell | Out-String | Invoke-Expression`,
	"vigie config": `  sudo vigie config check
  vigie configuration vérifier --config configs/try.toml`,
	"vigie config check": `  sudo vigie config check
  vigie config check --config /tmp/essai.toml --json`,
	"vigie demo": `  vigie demo
  vigie demo --modem quectel --verbose`,
	"vigie inbox": `  vigie inbox
  vigie messages --all`,
	"vigie inbox list": `  vigie inbox list
  vigie messages liste --all --json`,
	"vigie inbox show": `  vigie inbox show 7
  vigie messages voir 7`,
	"vigie inbox read": `  vigie inbox read 7
  vigie messages lu 7`,
	"vigie modem": `  sudo systemctl stop vigie; sudo vigie modem probe; sudo systemctl start vigie`,
	"vigie modem probe": `  sudo systemctl stop vigie; sudo vigie modem probe; sudo systemctl start vigie
  vigie modem probe --device /dev/ttyUSB2 --json`,
	"vigie serve": `  vigie serve --config configs/try.toml
  sudo systemctl start vigie                     # comme le lance systemd`,
	"vigie sim": `  vigie sim --link /tmp/vigie-modem
  vigie sim --personality huawei --delay 500ms`,
	"vigie status": `  vigie status
  vigie état --watch
  vigie status --json`,
	"vigie subscribers": `  vigie subscribers list --zone macon
  vigie abonnés ajouter "06 12 34 56 78" --zone macon-centre --trade bijouterie
  vigie abonnes importer adherents.csv --dry-run`,
	"vigie subscribers list": `  vigie subscribers list
  vigie abonnés liste --zone macon --trade pharmacie --status active`,
	"vigie subscribers show": `  vigie subscribers show "06 12 34 56 78"
  vigie abonnés voir +33612345678 --json`,
	"vigie subscribers add": `  vigie subscribers add "06 12 34 56 78" --zone macon-centre --trade bijouterie
  vigie abonnés ajouter 0612345678 --zone macon --zone charnay`,
	"vigie subscribers approve": `  vigie subscribers approve "06 12 34 56 78"
  vigie abonnés valider 0612345678`,
	"vigie subscribers remove": `  vigie subscribers remove "06 12 34 56 78"
  vigie abonnés retirer 0612345678 --erase      # RGPD : efface aussi ses données`,
	"vigie subscribers import": `  vigie subscribers import adherents.csv --dry-run
  vigie abonnés importer adherents.csv --zone macon`,
	"vigie subscribers export": `  vigie subscribers export abonnes.csv
  vigie abonnés exporter > abonnes.csv`,
	"vigie rapport": `  vigie rapport -o rapport-2026.html
  vigie rapport --from 2025-12-01 --to 2026-11-30 --zone macon -o macon.html
  vigie report --format csv --from 01/01/2026 > rapport.csv
  vigie rapport --format json`,
	"vigie zones": `  vigie zones
  vigie zones --json`,
}

// flagArgs names the value an option takes, in French, where its type alone
// (« texte », « durée ») would not say it; flagTypes is the fallback by type.
var flagArgs = map[string]string{
	"zone":          "ZONE",
	"trade":         "MÉTIER",
	"category":      "CATÉGORIE",
	"socket":        "CHEMIN",
	"config":        "CHEMIN",
	"device":        "CHEMIN",
	"link":          "CHEMIN",
	"man":           "RÉPERTOIRE",
	"completions":   "RÉPERTOIRE",
	"to":            "NUMÉRO",
	"number":        "NUMÉRO",
	"since":         "DATE",
	"format":        "FORMAT",
	"status":        "ÉTAT",
	"modem":         "FAMILLE",
	"personality":   "FAMILLE",
	"network-clock": "DURÉE",
	"nom":           "NOM",
	"name":          "NOM",
}

var flagTypes = map[string]string{
	"string":      "TEXTE",
	"stringSlice": "TEXTE",
	"stringArray": "TEXTE",
	"duration":    "DURÉE",
	"int":         "NOMBRE",
	"int64":       "NOMBRE",
	"uint":        "NOMBRE",
	"uint64":      "NOMBRE",
	"float64":     "NOMBRE",
	"intSlice":    "NOMBRE",
}

// flagArgAnnotation names, on one command's flag, a placeholder of its own
// where the one of flagArgs for that name does not fit (« rapport --to
// DATE », « alert test --to NUMÉRO »).
const flagArgAnnotation = "vigie-arg"

// flagArg is the French placeholder of f's value, "" for a switch.
func flagArg(f *pflag.Flag) string {
	if f.Value.Type() == "bool" {
		return ""
	}
	if a := f.Annotations[flagArgAnnotation]; len(a) == 1 {
		return a[0]
	}
	if a, ok := flagArgs[f.Name]; ok {
		return a
	}
	if a, ok := flagTypes[f.Value.Type()]; ok {
		return a
	}
	return "VALEUR"
}

// zeroDefault says whether a default is nothing worth printing.
func zeroDefault(f *pflag.Flag) bool {
	switch f.DefValue {
	case "", "false", "0", "0s", "[]", "<nil>":
		return true
	}
	return false
}

// flagUsages lists the options of fs in French: the left column is the
// option and its value, the right its use and its default.
func flagUsages(fs *pflag.FlagSet) string {
	type row struct{ left, right string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		left := "    "
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			left = "-" + f.Shorthand + ", "
		}
		left += "--" + f.Name
		if a := flagArg(f); a != "" {
			left += " " + a
		}
		right := f.Usage
		if !zeroDefault(f) {
			right += " (défaut : " + strings.Trim(f.DefValue, "[]") + ")"
		}
		rows = append(rows, row{left, right})
		width = max(width, len([]rune(left)))
	})
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "  %s%s   %s\n", r.left, strings.Repeat(" ", width-len([]rune(r.left))), r.right)
	}
	return strings.TrimRight(b.String(), "\n")
}

// useLine is cobra's usage line with « [options] » for its « [flags] ».
func useLine(c *cobra.Command) string {
	return strings.Replace(c.UseLine(), "[flags]", "[options]", 1)
}

// cobra keeps its template functions in one table for the process: ours are
// registered once, before anything runs.
func init() {
	cobra.AddTemplateFunc("frenchUseLine", useLine)
	cobra.AddTemplateFunc("frenchFlags", flagUsages)
}

// frenchDocs gives root and every command under it the French help of this
// file; newRootCommand calls it once the tree is built.
func frenchDocs(root *cobra.Command, g *globalOptions) {
	root.Flags().BoolP("version", "v", false, "version de vigie")
	root.SetHelpCommand(newHelpCommand())
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := c.CommandPath()
		if c.Example == "" {
			c.Example = examples[path]
		}
		for _, a := range frenchAliases[path] {
			if !slices.Contains(c.Aliases, a) {
				c.Aliases = append(c.Aliases, a)
			}
		}
		addCompletions(c, g)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// newHelpCommand replaces cobra's English "help" command.
func newHelpCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "help [COMMANDE…]",
		Aliases: []string{"aide"},
		Short:   "Aide d'une commande",
		Long:    "Affiche l'aide de la commande indiquée, comme « vigie COMMANDE --help ».",
		Example: "  vigie help alert send\n  vigie aide abonnés",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					names = append(names, sub.Name()+"\t"+sub.Short)
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 && cmd.HasSubCommands() {
				msg := fmt.Sprintf("pas d'aide pour « %s » : commande inconnue (« vigie --help » les liste)", strings.Join(args, " "))
				if group, word := deepestGroup(c.Root(), args); word != "" {
					if near, ok := nearestCommand(group, word); ok {
						msg += fmt.Sprintf(". Vouliez-vous dire « %s %s » ?", group.CommandPath(), near)
					}
				}
				return usageError{errors.New(msg)}
			}
			cmd.InitDefaultHelpFlag()
			return cmd.Help()
		},
	}
	cmd.Flags().BoolP("help", "h", false, "cette aide")
	return cmd
}

// deepestGroup follows args down the command tree as far as they name
// commands (or aliases), and returns the last command found and the first
// word that names none ("" if every word did).
func deepestGroup(root *cobra.Command, args []string) (*cobra.Command, string) {
	group := root
	for _, a := range args {
		next := (*cobra.Command)(nil)
		for _, sub := range group.Commands() {
			if sub.Name() == a || sub.HasAlias(a) {
				next = sub
				break
			}
		}
		if next == nil {
			return group, a
		}
		group = next
	}
	return group, ""
}

// Completion asks the daemon: zones and trades as configured, alerts and
// messages as stored. A daemon that is down or slow gives no candidates and
// no error, so the shell stays quiet; never file names for those.

// completionTimeout bounds one question to the daemon while the user waits
// at the prompt.
const completionTimeout = 2 * time.Second

// fileArgs are the commands whose arguments are files; the others complete
// no file name.
var fileArgs = map[string]bool{
	"vigie backup":             true,
	"vigie subscribers import": true,
	"vigie subscribers export": true,
}

// staticValues are the values a few options take, fixed by the code.
var staticValues = map[string][]string{
	"category": {"vol", "escroquerie", "fausse-monnaie", "autre"},
	"format":   {"html\tpage à imprimer", "csv\ttableur", "json\tpour un programme"},
	"status":   {"active\tinscrit", "pending\ten attente", "stopped\tdésinscrit (STOP)"},
}

func addCompletions(c *cobra.Command, g *globalOptions) {
	path := c.CommandPath()
	if c.ValidArgsFunction == nil && !fileArgs[path] && c.Runnable() {
		switch path {
		case "vigie alert show", "vigie alert cancel", "vigie alert followup":
			c.ValidArgsFunction = firstArg(alertCandidates, g)
		case "vigie inbox show", "vigie inbox read":
			c.ValidArgsFunction = firstArg(inboxCandidates, g)
		default:
			c.ValidArgsFunction = cobra.NoFileCompletions
		}
	}
	if f := c.LocalNonPersistentFlags().Lookup("zone"); f != nil {
		_ = c.RegisterFlagCompletionFunc("zone", daemonValues(g, zoneCandidates))
	}
	if f := c.LocalNonPersistentFlags().Lookup("trade"); f != nil {
		_ = c.RegisterFlagCompletionFunc("trade", daemonValues(g, tradeCandidates))
	}
	for name, values := range staticValues {
		if f := c.LocalNonPersistentFlags().Lookup(name); f != nil {
			_ = c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
		}
	}
}

type candidates func(ctx context.Context, c *client.Client) []string

// daemonValues completes an option's value with what the daemon answers.
func daemonValues(g *globalOptions, list candidates) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return ask(cmd, g, list, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// firstArg completes the first argument only (an id); what follows is text.
func firstArg(list candidates, g *globalOptions) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return ask(cmd, g, list, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

func ask(cmd *cobra.Command, g *globalOptions, list candidates, toComplete string) []string {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	var out []string
	for _, c := range list(ctx, g.client()) {
		if strings.HasPrefix(c, toComplete) {
			out = append(out, c)
		}
	}
	return out
}

// completion is one candidate with its description, which is shown by the
// shell: made inert and kept to one short line.
func completion(value, desc string) string {
	desc = inert(desc)
	if r := []rune(desc); len(r) > 50 {
		desc = string(r[:49]) + "…"
	}
	return value + "\t" + desc
}

func zoneCandidates(ctx context.Context, c *client.Client) []string {
	z, err := c.Zones(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, zone := range z.Zones {
		out = append(out, completion(zone.ID, zone.Name))
	}
	return out
}

func tradeCandidates(ctx context.Context, c *client.Client) []string {
	z, err := c.Zones(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, t := range z.Trades {
		out = append(out, completion(t.ID, t.Name))
	}
	return out
}

// alertCandidates are the alerts, newest first: the one a gendarme follows
// is usually the last.
func alertCandidates(ctx context.Context, c *client.Client) []string {
	alerts, err := c.Alerts(ctx)
	if err != nil {
		return nil
	}
	slices.SortFunc(alerts, func(a, b apitype.Alert) int { return cmp.Compare(b.ID, a.ID) })
	var out []string
	for _, a := range alerts {
		out = append(out, completion(fmt.Sprint(a.ID), a.CreatedAt.Local().Format("02/01 15:04")+" "+a.Text))
	}
	return out
}

func inboxCandidates(ctx context.Context, c *client.Client) []string {
	msgs, err := c.Inbox(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range msgs {
		out = append(out, completion(fmt.Sprint(m.ID), m.Text))
	}
	return out
}
