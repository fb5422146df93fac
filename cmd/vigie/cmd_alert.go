package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"vigie/gateway/apitype"
	"vigie/gateway/client"
	"vigie/gateway/french"
	"vigie/gateway/pace"
	"vigie/gateway/render"
)

func newAlertCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "alert",
		Aliases: []string{"alerte"},
		Short:   "Composer, envoyer et suivre les alertes",
	}
	cmd.AddCommand(newAlertPreviewCommand(g), newAlertSendCommand(g), newAlertShowCommand(g), newAlertListCommand(g),
		newAlertCancelCommand(g), newAlertFollowUpCommand(g), newAlertTestCommand(g))
	return cmd
}

// notReadyNotice is what the operator reads when the alert is accepted but
// no modem can send yet: it is queued and leaves as soon as one is ready.
const notReadyNotice = "démarrage en cours, modem pas encore prêt : l'alerte partira dès qu'il le sera (voir vigie status)"

// alertTarget is who an alert is for, shared by preview and send.
type alertTarget struct {
	zones    []string
	trades   []string
	all      bool
	category string
}

func (t *alertTarget) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringSliceVar(&t.zones, "zone", nil, "zone visée (répétable) ; ses sous-zones sont incluses")
	f.BoolVar(&t.all, "all", false, "tous les abonnés actifs")
	f.StringSliceVar(&t.trades, "trade", nil, "seulement ces métiers (répétable), avec --zone ou --all")
	f.StringVar(&t.category, "category", "", "vol, escroquerie, fausse-monnaie ou autre")
}

// check refuses a target that is neither zones nor all, or both.
func (t alertTarget) check() error {
	if t.all == (len(t.zones) > 0) {
		return usageError{errors.New("indiquez --zone ID (une ou plusieurs) ou bien --all")}
	}
	return nil
}

// request is the request to send text to the target.
func (t alertTarget) request(text string) apitype.AlertRequest {
	return apitype.AlertRequest{Zones: t.zones, Trades: t.trades, All: t.all, Category: t.category, Text: text}
}

type alertPreviewOptions struct {
	target alertTarget
	json   bool
}

func newAlertPreviewCommand(g *globalOptions) *cobra.Command {
	var opts alertPreviewOptions
	cmd := &cobra.Command{
		Use:   "preview (--zone ZONE… | --all) [--trade MÉTIER…] [--category CATÉGORIE] [TEXTE | -]",
		Short: "Montrer ce qu'une alerte enverrait, sans rien envoyer",
		Long: "Montre le texte final, son codage, le nombre de SMS, les destinataires par zone et la durée d'envoi.\n" +
			"Sans texte sur un terminal, un formulaire guidé compose le texte ; « - » lit le texte sur l'entrée standard.",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAlertPreview(cmd.Context(), opts, args, g)
		},
	}
	opts.target.addFlags(cmd)
	cmd.Flags().BoolVar(&opts.json, "json", false, "sortie JSON")
	return cmd
}

func runAlertPreview(ctx context.Context, opts alertPreviewOptions, args []string, g *globalOptions) error {
	d, err := draftAlert(ctx, opts.target, args, opts.json, g)
	if err != nil {
		return err
	}
	if opts.json {
		return printJSON(g.stdout, d.preview)
	}
	printPreview(g.stdout, d.preview, d.req, d.notice)
	fmt.Fprintln(g.stdout, "Aperçu seulement : rien n'est encore parti (vigie alert send, avec la même cible, pour l'envoyer).")
	return nil
}

// draft is an alert composed and previewed by the daemon, not yet sent.
type draft struct {
	in      *bufio.Reader // the operator's input, for the confirmation
	info    io.Writer     // where the operator reads: stdout, or stderr under --json
	c       *client.Client
	req     apitype.AlertRequest
	preview apitype.Preview
	ready   bool   // a modem can send now
	notice  string // why not, in French
}

// draftAlert gets the alert's text (arguments, stdin or the guided form)
// and asks the daemon what it would do.
func draftAlert(ctx context.Context, target alertTarget, args []string, asJSON bool, g *globalOptions) (draft, error) {
	form := len(args) == 0 && g.stdinTTY
	// The guided form asks for a missing zone; elsewhere it is a usage error.
	if err := target.check(); err != nil && !(form && !target.all) {
		return draft{}, err
	}
	d := draft{in: bufio.NewReader(g.stdin), info: g.stdout, c: g.client()}
	if asJSON {
		// stdout is the JSON a script parses.
		d.info = g.stderr
	}
	var text string
	var err error
	if form {
		// The target is checked before the first question, so that no
		// answer is typed for an alert the daemon would then refuse.
		if target, err = askTarget(ctx, d.in, d.info, d.c, target); err != nil {
			return draft{}, err
		}
		text, err = askAlertForm(ctx, d.in, d.info, func(text string) error {
			_, err := d.c.PreviewAlert(ctx, target.request(text))
			return err
		})
	} else {
		text, err = alertText(ctx, args, d.in, d.info, g)
	}
	if err != nil {
		return draft{}, err
	}
	d.req = target.request(text)
	if d.preview, err = d.c.PreviewAlert(ctx, d.req); err != nil {
		return draft{}, err
	}
	d.ready, d.notice = modemsReady(ctx, d.c)
	return d, nil
}

type alertSendOptions struct {
	target   alertTarget
	yes      bool
	wait     bool
	interval time.Duration
	json     bool
}

func newAlertSendCommand(g *globalOptions) *cobra.Command {
	var opts alertSendOptions
	cmd := &cobra.Command{
		Use:   "send (--zone ZONE… | --all) [--trade MÉTIER…] [--category CATÉGORIE] [--yes] [--wait] [TEXTE | -]",
		Short: "Prévisualiser, confirmer et mettre en file une alerte",
		Long: "Montre l'aperçu, demande confirmation (sauf --yes) puis met l'alerte en file.\n" +
			"Sans texte sur un terminal, un formulaire guidé compose le texte ; « - » lit le texte sur l'entrée standard.\n" +
			"Sur un terminal, l'envoi est suivi jusqu'au dernier SMS (--wait=false pour rendre la main aussitôt) ;\n" +
			"ailleurs, --wait le suit. Ctrl-C arrête le suivi, pas l'envoi.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("wait") {
				// On a terminal the operator watches the send by default;
				// a script asks with --wait (or --wait=false to not).
				opts.wait = g.stdoutTTY && !opts.json
			}
			return runAlertSend(cmd.Context(), opts, args, g)
		},
	}
	opts.target.addFlags(cmd)
	f := cmd.Flags()
	f.BoolVar(&opts.yes, "yes", false, "ne pas demander de confirmation")
	f.BoolVar(&opts.wait, "wait", false, "suivre l'envoi jusqu'à ce que chaque SMS soit parti ou en échec (par défaut sur un terminal)")
	f.DurationVar(&opts.interval, "interval", time.Second, "avec --wait : intervalle de rafraîchissement")
	f.BoolVar(&opts.json, "json", false, "sortie JSON (l'aperçu et le suivi vont sur la sortie d'erreur)")
	return cmd
}

func runAlertSend(ctx context.Context, opts alertSendOptions, args []string, g *globalOptions) error {
	if opts.interval <= 0 {
		return usageError{fmt.Errorf("--interval doit être positif : %v", opts.interval)}
	}
	if len(args) == 1 && args[0] == "-" && !opts.yes && !g.stdinTTY {
		return usageError{errors.New("texte lu sur l'entrée standard (-) : ajoutez --yes, la confirmation ne peut pas y être lue")}
	}
	d, err := draftAlert(ctx, opts.target, args, opts.json, g)
	if err != nil {
		return err
	}
	info := d.info
	printPreview(info, d.preview, d.req, d.notice)
	var a apitype.Alert
	for {
		if !opts.yes {
			ok, err := confirmSend(ctx, &d, info)
			if err != nil {
				return err
			}
			if !ok {
				fmt.Fprintln(info, "Alerte abandonnée : rien n'a été envoyé.")
				return nil
			}
		}
		// The send carries the preview confirmed: recipients that changed
		// since are refused by the daemon (412) rather than sent to.
		req := d.req
		req.Fingerprint, req.Expected = d.preview.Fingerprint, d.preview.Recipients
		a, err = d.c.SendAlert(ctx, req)
		var ue *apitype.UserError
		if opts.yes || !errors.As(err, &ue) || ue.Kind != apitype.RefuseTargetChanged {
			break
		}
		fmt.Fprintln(info, sentence(ue.Message, true))
		if d.preview, err = d.c.PreviewAlert(ctx, d.req); err != nil {
			return err
		}
		printPreview(info, d.preview, d.req, d.notice)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(info, "Alerte %d acceptée : %s, %s chacun. Suivi : vigie alert show %d\n",
		a.ID, count(a.Recipients, "destinataire", "destinataires"), count(a.Parts, "SMS", "SMS"), a.ID)
	if !d.ready {
		fmt.Fprintln(info, sentence(d.notice, true))
	}
	if opts.wait {
		w := watcher{c: d.c, out: info, tty: g.stdoutTTY && !opts.json, interval: opts.interval, etaPerMessage: etaPerMessage(d.preview)}
		final, err := w.watch(ctx, a.ID)
		if err != nil {
			return err
		}
		if final != nil {
			a = *final
		}
	}
	if opts.json {
		return printJSON(g.stdout, a)
	}
	return nil
}

// confirmSend asks whether to send d as previewed, letting the operator
// edit the text first; the request takes a new text only once the daemon
// accepts it.
func confirmSend(ctx context.Context, d *draft, info io.Writer) (bool, error) {
	edit := func(text string) (apitype.Preview, error) {
		req := d.req
		req.Text = text
		p, err := d.c.PreviewAlert(ctx, req)
		if err == nil {
			d.req = req
		}
		return p, err
	}
	return confirmOrEdit(ctx, d.in, info, func() string {
		return fmt.Sprintf("Envoyer à %s ? ", count(d.preview.Recipients, "commerçant", "commerçants"))
	}, &d.preview, d.req.Text, edit, func(p apitype.Preview) { printPreview(info, p, d.req, d.notice) })
}

// alertText is the alert's text: the arguments joined, stdin for "-", or
// the guided form when there is no argument and stdin is a terminal.
func alertText(ctx context.Context, args []string, in *bufio.Reader, out io.Writer, g *globalOptions) (string, error) {
	switch {
	case len(args) == 1 && args[0] == "-":
		b, err := io.ReadAll(in)
		if err != nil {
			return "", fmt.Errorf("lecture du texte sur l'entrée standard : %w", err)
		}
		text := strings.TrimSpace(string(b))
		if text == "" {
			return "", usageError{errors.New("aucun texte lu sur l'entrée standard")}
		}
		return text, nil
	case len(args) > 0:
		return strings.Join(args, " "), nil
	}
	return "", usageError{errors.New("texte de l'alerte manquant (en argument, ou « - » pour le lire sur l'entrée standard)")}
}

// askTarget checks the target of the guided form with the daemon, one
// zone then one trade at a time, and asks again for what is wrong (or
// missing) until the daemon accepts it: no question of the form is asked
// for an alert that could not leave.
func askTarget(ctx context.Context, in *bufio.Reader, out io.Writer, c *client.Client, t alertTarget) (alertTarget, error) {
	const probe = "." // any text: only the target is checked here
	preview := func(zones, trades []string) error {
		_, err := c.PreviewAlert(ctx, apitype.AlertRequest{Zones: zones, Trades: trades, All: t.all, Text: probe})
		return err
	}
	// refused is the daemon's refusal of the first item preview refuses,
	// "" if it accepts them all; other errors (daemon down) end the form.
	refused := func(items []string, try func(string) error) (string, error) {
		for _, it := range items {
			var ue *apitype.UserError
			if err := try(it); errors.As(err, &ue) {
				return ue.Message, nil
			} else if err != nil {
				return "", err
			}
		}
		return "", nil
	}
	ask := func(what, prompt string) ([]string, error) {
		fmt.Fprint(out, prompt)
		line, err := readLine(ctx, in)
		if errors.Is(err, errInterrupted) {
			return nil, err
		}
		items := splitList(line)
		if len(items) == 0 && err != nil {
			return nil, usageError{fmt.Errorf("alerte abandonnée : %s, rien n'a été envoyé", what)}
		}
		return items, nil
	}
	for {
		// The whole target first: one request when all is well. Only a
		// refused one is probed item by item to find what to ask again.
		whole := ""
		if !t.all && len(t.zones) == 0 {
			whole = "aucune zone indiquée"
		} else {
			var err error
			if whole, err = refused([]string{""}, func(string) error { return preview(t.zones, t.trades) }); err != nil {
				return t, err
			}
		}
		if whole == "" {
			// What is left to refuse (the category) is said now, not
			// after every answer.
			_, err := c.PreviewAlert(ctx, t.request(probe))
			return t, err
		}
		zone, err := refused(t.zones, func(z string) error { return preview([]string{z}, nil) })
		if err != nil {
			return t, err
		}
		trade := ""
		if zone == "" && whole != "aucune zone indiquée" {
			if trade, err = refused(t.trades, func(tr string) error { return preview(t.zones, []string{tr}) }); err != nil {
				return t, err
			}
		}
		if trade != "" || (zone == "" && len(t.trades) > 0 && whole != "aucune zone indiquée") {
			// A wrong trade, or trades none of which is in these zones.
			if trade == "" {
				trade = whole
			}
			fmt.Fprintf(out, "Métier refusé : %s.\n", trade)
			listTrades(ctx, out, c)
			trades, err := ask("aucun métier saisi", "Métiers visés ? (identifiants séparés par des virgules ; Entrée : tous les métiers) ")
			if err != nil {
				return t, err
			}
			t.trades = trades
			continue
		}
		if t.all {
			// Every active subscriber and no wrong trade: nothing to ask
			// again, the daemon's refusal is the answer.
			_, err := c.PreviewAlert(ctx, t.request(probe))
			return t, err
		}
		if zone == "" {
			zone = whole
		}
		fmt.Fprintf(out, "Zone refusée : %s\n", sentence(zone, false))
		listZones(ctx, out, c)
		zones, err := ask("aucune zone saisie", "Zone visée ? (identifiant ; plusieurs : macon, charnay) ")
		if err != nil {
			return t, err
		}
		t.zones = zones
	}
}

// splitList reads "macon, charnay" or "macon charnay" as two items.
func splitList(line string) []string {
	return strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) })
}

// listZones shows the zones the operator can choose from, if the daemon
// says them.
func listZones(ctx context.Context, out io.Writer, c *client.Client) {
	if zs, err := c.Zones(ctx); err == nil {
		printChoices(out, "Zones possibles", len(zs.Zones), func(i int) (string, string) { return zs.Zones[i].ID, zs.Zones[i].Name })
	}
}

// listTrades shows the trades the operator can choose from.
func listTrades(ctx context.Context, out io.Writer, c *client.Client) {
	if zs, err := c.Zones(ctx); err == nil {
		printChoices(out, "Métiers possibles", len(zs.Trades), func(i int) (string, string) { return zs.Trades[i].ID, zs.Trades[i].Name })
	}
}

// printChoices writes « label : id (name), … », nothing when there are none.
func printChoices(out io.Writer, label string, n int, item func(i int) (id, name string)) {
	if n == 0 {
		return
	}
	names := make([]string, n)
	for i := range names {
		id, name := item(i)
		names[i] = id + " (" + name + ")"
	}
	fmt.Fprintf(out, "%s : %s\n", label, strings.Join(names, ", "))
}

// alertForm is the fixed alert form of the schemes ("alerte commerces"):
// never the victim's name.
type alertForm struct {
	what, where, when, suspect, advice string
}

// askAlertForm asks the form's questions in French and composes the text.
// Only "what" is required.
//
// check, if not nil, is asked after each answer whether the text composed
// so far can be sent (the daemon renders and measures it): a refused answer
// (too long) is said and asked again; the earlier answers are kept.
func askAlertForm(ctx context.Context, in *bufio.Reader, out io.Writer, check func(string) error) (string, error) {
	fmt.Fprintln(out, "Composition de l'alerte (Entrée pour passer une question ; jamais le nom de la victime).")
	var f alertForm
	questions := []struct {
		prompt   string
		v        *string
		required bool
	}{
		{"Que s'est-il passé ? (ex. : vol à l'étalage) ", &f.what, true},
		{"Où ? (ex. : rue Carnot) ", &f.where, false},
		{"Quand ? (ex. : ce jour vers 15h) ", &f.when, false},
		{"Signalement de l'individu ? (ex. : homme 30 ans, veste rouge) ", &f.suspect, false},
		{"Conseil aux commerçants ? (ex. : vigilance, appelez le 17) ", &f.advice, false},
	}
	for _, q := range questions {
		for {
			fmt.Fprint(out, q.prompt)
			line, err := readLine(ctx, in)
			if errors.Is(err, errInterrupted) {
				return "", err
			}
			*q.v = strings.TrimSpace(line)
			if *q.v != "" && check != nil && err == nil {
				var ue *apitype.UserError
				if cerr := check(f.compose()); errors.As(cerr, &ue) {
					fmt.Fprintf(out, "Réponse refusée : %s Raccourcissez-la.\n", sentence(ue.Message, false))
					*q.v = ""
					continue
				} else if cerr != nil {
					return "", cerr
				}
			}
			if *q.v != "" || !q.required {
				break
			}
			if err != nil {
				return "", usageError{errors.New("alerte abandonnée : rien n'a été saisi")}
			}
			fmt.Fprintln(out, "Cette réponse est nécessaire.")
		}
	}
	text := f.compose()
	fmt.Fprintf(out, "Texte composé : %s\n", text)
	return text, nil
}

// compose renders the form as one consistent text: "Vol à l'étalage rue
// Carnot ce jour vers 15h. Individu : homme 30 ans, veste rouge. Conseil :
// vigilance, appelez le 17."
func (f alertForm) compose() string {
	var sentences []string
	add := func(label, s string) {
		if s = sentence(s, label == ""); s != "" {
			sentences = append(sentences, label+s)
		}
	}
	add("", joinNonEmpty(f.what, f.where, f.when))
	add("Individu : ", f.suspect)
	add("Conseil : ", f.advice)
	return strings.Join(sentences, " ")
}

func joinNonEmpty(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(p), ".;,")); p != "" {
			kept = append(kept, p)
		}
	}
	// Commas between what, where and when: an answer may itself hold a
	// comma or a name ("Bijouterie Lamartine, rue Carnot").
	return strings.Join(kept, ", ")
}

// sentence ends s with a full stop unless it already ends a sentence, and
// capitalises it if asked.
func sentence(s string, capital bool) string {
	s = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(s), ".;,:"))
	if s == "" {
		return ""
	}
	if capital {
		r, n := utf8.DecodeRuneInString(s)
		s = string(unicode.ToUpper(r)) + s[n:]
	}
	if !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "…") {
		s += "."
	}
	return s
}

// modemsReady says whether at least one modem can send now, and if not,
// what the operator must read: modems still starting will send soon, a
// locked SIM or a silent modem needs a person. If the status cannot be
// read it says yes: the send itself reports real errors.
func modemsReady(ctx context.Context, c *client.Client) (bool, string) {
	st, err := c.Status(ctx)
	if err != nil {
		return true, ""
	}
	var states []string
	starting := true
	for _, m := range st.Modems {
		switch m.State {
		case apitype.ModemReady:
			return true, ""
		case apitype.ModemStarting, apitype.ModemResetting:
		default:
			starting = false
		}
		states = append(states, fmt.Sprintf("%s : %s", m.Name, stateFrench[m.State]))
	}
	if starting {
		return false, notReadyNotice
	}
	return false, "aucun modem ne peut envoyer (" + strings.Join(states, ", ") +
		") : l'alerte attend en file qu'une personne intervienne (voir vigie status)"
}

// encodingFrench explains an SMS alphabet to the operator.
var encodingFrench = map[string]string{
	"GSM7": "GSM 7 bits (160 caractères par SMS, 153 par partie)",
	"UCS2": "UCS-2 (70 caractères par SMS, 67 par partie : caractères hors alphabet GSM)",
}

// printPreview shows what an alert would do; notice, if not empty, says why
// no modem can send now.
func printPreview(w io.Writer, p apitype.Preview, req apitype.AlertRequest, notice string) {
	fmt.Fprintf(w, "Texte qui sera envoyé :\n  %s\n", p.Text)
	enc := encodingFrench[p.Encoding]
	if enc == "" {
		enc = p.Encoding
	}
	fmt.Fprintf(w, "Codage : %s ; %s, %s par destinataire\n", enc, count(p.Chars, "caractère", "caractères"), count(p.Parts, "SMS", "SMS"))
	for _, h := range lengthHints(p) {
		fmt.Fprintln(w, h)
	}
	category := req.Category
	if category == "" {
		category = "autre"
	}
	fmt.Fprintf(w, "Catégorie : %s\n", category)
	if len(req.Trades) > 0 {
		fmt.Fprintf(w, "Métiers visés : %s\n", strings.Join(req.Trades, ", "))
	}
	if req.All {
		fmt.Fprintln(w, "Cible : tous les abonnés actifs")
	}
	for _, tr := range p.ByTrade {
		fmt.Fprintf(w, "  métier %-14s %-20s %s\n", tr.Trade, "("+tr.Name+")", count(tr.Recipients, "commerçant", "commerçants"))
	}
	for _, z := range p.ByZone {
		fmt.Fprintf(w, "  zone %-16s %-20s %s\n", z.Zone, "("+z.Name+")", count(z.Recipients, "commerçant", "commerçants"))
	}
	eta := "durée d'envoi estimée : " + french.Duration(time.Duration(p.ETASeconds*float64(time.Second)))
	if notice != "" {
		eta = "durée d'envoi inconnue : " + notice
	}
	fmt.Fprintf(w, "Destinataires : %s, %s au total ; %s\n", count(p.Recipients, "commerçant", "commerçants"), count(p.Recipients*p.Parts, "SMS", "SMS"), eta)
}

// lengthHints tell how the text could cost fewer SMS: the characters that
// force UCS-2 and what replacing them saves, and how many characters to cut
// to save a part.
func lengthHints(p apitype.Preview) []string {
	var hints []string
	if p.Encoding == string(render.UCS2) {
		var quoted []string
		for _, r := range render.NonGSM(p.Text) {
			quoted = append(quoted, "« "+string(r)+" »")
		}
		h := "Hors alphabet GSM, ces caractères imposent l'UCS-2 : " + strings.Join(quoted, ", ")
		if t := render.Measure(render.Transliterate(p.Text)); t.Encoding == render.GSM7 && t.Parts < p.Parts {
			h += fmt.Sprintf(" ; sans eux : %s au lieu de %d", count(t.Parts, "SMS", "SMS"), p.Parts)
		}
		hints = append(hints, h+".")
	}
	if p.Parts > 1 {
		n := render.CutToFit(p.Text, p.Parts-1)
		hints = append(hints, fmt.Sprintf("Retirez %s pour passer à %s par destinataire.",
			count(n, "caractère", "caractères"), count(p.Parts-1, "SMS", "SMS")))
	}
	return hints
}

// etaPerMessage is the preview's estimate of the time one recipient takes.
func etaPerMessage(p apitype.Preview) time.Duration {
	if p.Recipients == 0 {
		return 0
	}
	return time.Duration(p.ETASeconds / float64(p.Recipients) * float64(time.Second))
}

// confirm asks a yes/no question; only "o"/"oui" (or y/yes) says yes. Pass
// the same *bufio.Reader as earlier questions so no typed line is lost.
// Ctrl-C (ctx) at the question abandons, with errInterrupted.
func confirm(ctx context.Context, in io.Reader, out io.Writer, question string) (bool, error) {
	fmt.Fprint(out, question)
	br, ok := in.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(in)
	}
	answer, err := readAnswer(ctx, br, out)
	if err != nil {
		return false, err
	}
	switch answer {
	case "o", "oui", "y", "yes":
		return true, nil
	}
	return false, nil
}

// readAnswer reads the answer to a confirmation question, lower-cased.
// Ctrl-C gives errInterrupted; no answer at all (a script's empty input) is
// a usage error, not a "no" that would exit 0 as if all were well.
func readAnswer(ctx context.Context, in *bufio.Reader, out io.Writer) (string, error) {
	line, err := readLine(ctx, in)
	if errors.Is(err, errInterrupted) {
		fmt.Fprintln(out)
		return "", err
	}
	if err != nil && line == "" {
		fmt.Fprintln(out)
		return "", usageError{errors.New("pas de réponse à la confirmation : rien n'a été envoyé (ajoutez --yes pour envoyer sans confirmation)")}
	}
	return strings.ToLower(strings.TrimSpace(line)), nil
}

// choices is what the confirmation question offers.
const choices = "[o]ui / [n]on / [m]odifier : "

// confirmOrEdit asks to send, not to send, or to edit the text first. On
// [m]odifier it shows the current text, reads the new one (Entrée keeps
// it), has edit preview it and show that preview, and asks again: a text
// the daemon refuses (too long) is said and asked again, never lost.
// *p is the preview of the text that will be sent; question is asked anew
// each time, as the recipients are counted on the latest preview.
func confirmOrEdit(ctx context.Context, in *bufio.Reader, out io.Writer, question func() string, p *apitype.Preview,
	text string, edit func(string) (apitype.Preview, error), show func(apitype.Preview)) (bool, error) {
	for {
		fmt.Fprint(out, question()+choices)
		answer, err := readAnswer(ctx, in, out)
		if err != nil {
			return false, err
		}
		switch answer {
		case "o", "oui", "y", "yes":
			return true, nil
		case "m", "modifier", "e", "edit":
		default:
			return false, nil
		}
		for {
			fmt.Fprintf(out, "Texte actuel : %s\nNouveau texte (Entrée pour garder l'actuel) : ", text)
			line, err := readLine(ctx, in)
			if errors.Is(err, errInterrupted) {
				fmt.Fprintln(out)
				return false, err
			}
			if t := strings.TrimSpace(line); t != "" {
				np, perr := edit(t)
				var ue *apitype.UserError
				if errors.As(perr, &ue) {
					fmt.Fprintf(out, "Texte refusé : %s. Modifiez-le encore.\n", ue.Message)
					if err != nil {
						return false, usageError{errors.New("texte refusé et plus rien à lire : rien n'a été envoyé")}
					}
					continue
				}
				if perr != nil {
					return false, perr
				}
				text, *p = t, np
				show(np)
			} else if err != nil {
				fmt.Fprintln(out)
				return false, usageError{errors.New("pas de réponse à la confirmation : rien n'a été envoyé (ajoutez --yes pour envoyer sans confirmation)")}
			}
			break
		}
	}
}

// errInterrupted: the operator pressed Ctrl-C at a question; nothing was sent.
var errInterrupted = errors.New("interrompu : rien n'a été envoyé")

// readLine reads one line, or gives up with errInterrupted when ctx ends
// (Ctrl-C: main turns SIGINT into ctx's cancellation, so a blocked read
// alone would ignore it). The reading goroutine is left to the process's
// exit, which follows.
func readLine(ctx context.Context, br *bufio.Reader) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := br.ReadString('\n')
		ch <- result{line, err}
	}()
	select {
	case r := <-ch:
		return r.line, r.err
	case <-ctx.Done():
		return "", errInterrupted
	}
}

// watcher follows an alert until every message is final.
type watcher struct {
	c        *client.Client
	out      io.Writer
	tty      bool // redraw one line instead of printing each change
	interval time.Duration
	// etaPerMessage is the preview's estimate, used until messages finish.
	etaPerMessage time.Duration
}

// progress is an alert's advance as the progress line shows it.
type progress struct {
	sent, delivered, failed, left, total int
	replies                              int // witness replies so far
}

func progressOf(a apitype.Alert) progress {
	c := a.Counts
	return progress{
		sent:      c["sent"] + c["delivered"],
		delivered: c["delivered"],
		failed:    c["failed"] + c["expired"],
		left:      c["queued"] + c["sending"],
		total:     a.Recipients,
		replies:   a.ReplyCount,
	}
}

// repliesSuffix says the witness replies come in, live: the gendarmes
// want to know as soon as a shop answers.
func (p progress) repliesSuffix() string {
	if p.replies == 0 {
		return ""
	}
	return ", " + count(p.replies, "réponse de commerçant", "réponses de commerçants")
}

func (p progress) line(eta time.Duration, known bool) string {
	s := fmt.Sprintf("envoyés %d/%d, remis %d, échecs %d, restant %d", p.sent, p.total, p.delivered, p.failed, p.left) + p.repliesSuffix()
	if p.left > 0 && known {
		s += ", fin estimée dans " + french.Duration(eta)
	}
	return s
}

// barWidth is the progress bar's length in cells.
const barWidth = 20

// bar is the terminal's progress line: a bar of the messages final (sent,
// failed or otherwise settled), the percentage, the counts, the time spent
// and the time left at the pace measured so far.
func (p progress) bar(elapsed, eta time.Duration, known bool) string {
	done, pct := 0, 100
	if p.total > 0 {
		done = p.total - p.left
		pct = done * 100 / p.total
	}
	filled := 0
	if p.total > 0 {
		filled = done * barWidth / p.total
	}
	s := fmt.Sprintf("[%s%s] %3d %%  envoyés %d/%d, remis %d, échecs %d ; écoulé %s", strings.Repeat("█", filled),
		strings.Repeat("░", barWidth-filled), pct, p.sent, p.total, p.delivered, p.failed, french.Duration(elapsed))
	s += p.repliesSuffix()
	if p.left > 0 && known {
		s += ", reste environ " + french.Duration(eta)
	}
	return s
}

// watch polls alert id until it is done (and returns it) or ctx ends: then
// it says that sending goes on, and returns nil, nil.
// sentSeen rebuilds send times from the counts a progress loop polls:
// the k messages that left between two polls are spread evenly over that
// interval, so pace.ETA measures the pace as it would from each send's
// time, and an outage (polls with nothing sent) stays one long gap.
type sentSeen struct {
	times []time.Time
	at    time.Time // the previous poll
	count int       // messages gone at the previous poll
}

// maxSeen bounds the times kept: the recent pace is the one that matters.
const maxSeen = 256

func (s *sentSeen) observe(now time.Time, count int) {
	if !s.at.IsZero() && count > s.count {
		k := count - s.count
		step := now.Sub(s.at) / time.Duration(k)
		for i := 1; i <= k; i++ {
			s.times = append(s.times, s.at.Add(step*time.Duration(i)))
		}
		if len(s.times) > maxSeen {
			s.times = slices.Clone(s.times[len(s.times)-maxSeen:])
		}
	}
	s.at, s.count = now, count
}

func (w watcher) watch(ctx context.Context, id uint64) (*apitype.Alert, error) {
	begin := time.Now()
	last := ""
	var seen sentSeen
	for {
		// Counts only: the messages are not read each second.
		rep, err := w.c.AlertSummary(ctx, id)
		if ctx.Err() != nil {
			return nil, w.stopped(id)
		}
		if err != nil {
			return nil, err
		}
		p := progressOf(rep)
		seen.observe(time.Now(), p.sent+p.failed)
		// Once messages are sent, their measured pace says more than the
		// configured rate.
		eta, known := time.Duration(p.left)*w.etaPerMessage, w.etaPerMessage > 0
		if measured, ok := pace.ETA(seen.times, p.left); ok {
			eta, known = measured, true
		}
		line := p.line(eta, known)
		switch {
		case w.tty:
			writeControl(w.out, "\r\033[K")
			fmt.Fprint(w.out, p.bar(time.Since(begin), eta, known))
		case line != last:
			fmt.Fprintln(w.out, line)
		}
		last = line
		if rep.Done {
			if w.tty {
				fmt.Fprintln(w.out)
			}
			fmt.Fprintf(w.out, "Alerte %d terminée. ", id)
			printCounts(w.out, rep.Counts)
			return &rep, nil
		}
		select {
		case <-ctx.Done():
			return nil, w.stopped(id)
		case <-time.After(w.interval):
		}
	}
}

func (w watcher) stopped(id uint64) error {
	if w.tty {
		fmt.Fprintln(w.out)
	}
	fmt.Fprintf(w.out, "Suivi interrompu : l'envoi continue ; suivre : vigie alert show %d ; annuler : vigie alert cancel %d\n", id, id)
	return nil
}

// alertID reads an alert id argument.
func alertID(arg string) (uint64, error) {
	id, err := strconv.ParseUint(arg, 10, 64)
	if err != nil {
		return 0, usageError{fmt.Errorf("identifiant d'alerte invalide : %q", arg)}
	}
	return id, nil
}

func newAlertCancelCommand(g *globalOptions) *cobra.Command {
	var asJSON, yes bool
	cmd := &cobra.Command{
		Use:   "cancel ID [--yes]",
		Short: "Annuler ce qui n'est pas encore parti d'une alerte",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := alertID(args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			c := g.client()
			var rep apitype.AlertReport
			if !yes {
				if rep, err = c.Alert(ctx, id); err != nil {
					return err
				}
			}
			// A finished alert has nothing left to cancel: no question.
			if !yes && !rep.Done {
				left := rep.Counts["queued"] + rep.Counts["sending"]
				ok, err := confirmIrreversible(ctx, g, yes, asJSON,
					fmt.Sprintf("Annuler l'alerte %d ? %s (ceux déjà partis ne peuvent pas être rappelés).", id,
						count(left, "SMS pas encore parti ne partira pas", "SMS pas encore partis ne partiront pas")),
					fmt.Sprintf("vigie alert cancel %d --yes", id))
				if err != nil {
					return err
				}
				if !ok {
					fmt.Fprintf(g.stdout, "Rien n'a été annulé : l'alerte %d continue.\n", id)
					return nil
				}
			}
			res, err := c.CancelAlert(ctx, id)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(g.stdout, res)
			}
			return printCancelled(cmd.Context(), g, id, res)
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "ne pas demander de confirmation")
	cmd.Flags().BoolVar(&asJSON, "json", false, "sortie JSON")
	return cmd
}

func newAlertFollowUpCommand(g *globalOptions) *cobra.Command {
	var asJSON, yes bool
	cmd := &cobra.Command{
		Use:   "followup ID [--yes] TEXTE…|-",
		Short: "Envoyer une suite (fin d'alerte) à ceux qui ont reçu l'alerte",
		Args:  minArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, err := alertID(args[0])
			if err != nil {
				return err
			}
			if len(args) == 2 && args[1] == "-" && !yes && !g.stdinTTY {
				return usageError{errors.New("texte lu sur l'entrée standard (-) : ajoutez --yes, la confirmation ne peut pas y être lue")}
			}
			info := g.stdout
			if asJSON {
				info = g.stderr
			}
			in := bufio.NewReader(g.stdin)
			text, err := alertText(ctx, args[1:], in, info, g)
			if err != nil {
				return err
			}
			c := g.client()
			p, err := c.PreviewFollowUp(ctx, id, text)
			if err != nil {
				return err
			}
			printFollowUpPreview(info, id, p)
			if !yes {
				edit := func(t string) (apitype.Preview, error) {
					np, err := c.PreviewFollowUp(ctx, id, t)
					if err == nil {
						text = t
					}
					return np, err
				}
				ok, err := confirmOrEdit(ctx, in, info, func() string {
					return fmt.Sprintf("Envoyer cette suite à %s ? ", count(p.Recipients, "destinataire", "destinataires"))
				}, &p, text, edit, func(np apitype.Preview) { printFollowUpPreview(info, id, np) })
				if err != nil {
					return err
				}
				if !ok {
					fmt.Fprintln(info, "Suite abandonnée : rien n'a été envoyé.")
					return nil
				}
			}
			a, err := c.FollowUp(ctx, id, text)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(g.stdout, a)
			}
			fmt.Fprintf(g.stdout, "Suite de l'alerte %d acceptée (alerte %d) : %s, %s chacun. Suivi : vigie alert show %d\n",
				id, a.ID, count(a.Recipients, "destinataire", "destinataires"), count(a.Parts, "SMS", "SMS"), a.ID)
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "ne pas demander de confirmation")
	cmd.Flags().BoolVar(&asJSON, "json", false, "sortie JSON")
	return cmd
}

// printFollowUpPreview shows a follow-up as an alert's preview, then who of
// the alert's recipients it leaves out: those who never got the alert.
func printFollowUpPreview(w io.Writer, id uint64, p apitype.Preview) {
	fmt.Fprintf(w, "Suite de l'alerte %d, pour ceux qui l'ont reçue.\n", id)
	fmt.Fprintf(w, "Texte qui sera envoyé :\n  %s\n", p.Text)
	enc := encodingFrench[p.Encoding]
	if enc == "" {
		enc = p.Encoding
	}
	fmt.Fprintf(w, "Codage : %s ; %s, %s par destinataire\n", enc, count(p.Chars, "caractère", "caractères"), count(p.Parts, "SMS", "SMS"))
	for _, h := range lengthHints(p) {
		fmt.Fprintln(w, h)
	}
	fmt.Fprintf(w, "Destinataires : %s, %s au total ; durée d'envoi estimée : %s\n", count(p.Recipients, "commerçant", "commerçants"),
		count(p.Recipients*p.Parts, "SMS", "SMS"), french.Duration(time.Duration(p.ETASeconds*float64(time.Second))))
	switch p.Pending {
	case 0:
	case 1:
		fmt.Fprintf(w, "Dont 1 encore en attente de l'alerte %d : il la recevra d'abord, puis cette suite.\n", id)
	default:
		fmt.Fprintf(w, "Dont %d encore en attente de l'alerte %d : ils la recevront d'abord, puis cette suite.\n", p.Pending, id)
	}
	switch p.Missed {
	case 0:
		fmt.Fprintf(w, "Tous les destinataires de l'alerte %d l'ont reçue ou la recevront.\n", id)
	case 1:
		fmt.Fprintf(w, "1 destinataire de l'alerte %d ne l'a pas reçue (annulée, STOP, échec ou délai dépassé) : il ne recevra pas cette suite.\n", id)
	default:
		fmt.Fprintf(w, "%d destinataires de l'alerte %d ne l'ont pas reçue (annulée, STOP, échec ou délai dépassé) : ils ne recevront pas cette suite.\n", p.Missed, id)
	}
}

type alertTestOptions struct {
	to   string
	json bool
}

func newAlertTestCommand(g *globalOptions) *cobra.Command {
	var opts alertTestOptions
	cmd := &cobra.Command{
		Use:   "test --to NUMÉRO [TEXTE]",
		Short: "Envoyer un SMS de test (avant les alertes en file)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.to == "" {
				return usageError{errors.New("indiquez le numéro avec --to (ex. --to 06 12 34 56 78)")}
			}
			c := g.client()
			res, err := c.SendTest(cmd.Context(), apitype.TestRequest{To: opts.to, Text: strings.Join(args, " ")})
			if err != nil {
				return err
			}
			if opts.json {
				return printJSON(g.stdout, res)
			}
			fmt.Fprintf(g.stdout, "SMS de test %d mis en file pour %s, avant les alertes (%d SMS, %s) :\n  %s\n",
				res.ID, res.To, res.Parts, res.Encoding, res.Text)
			if ready, notice := modemsReady(cmd.Context(), c); !ready {
				fmt.Fprintln(g.stdout, sentence(notice, true))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&opts.to, "to", "", "numéro de mobile du destinataire")
	cmd.Flags().BoolVar(&opts.json, "json", false, "sortie JSON")
	return cmd
}

type alertShowOptions struct{ json bool }

func newAlertShowCommand(g *globalOptions) *cobra.Command {
	var opts alertShowOptions
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Compte rendu d'une alerte",
		Long: "Montre la cible, le texte, le sort de chaque SMS, les commerces à prévenir par téléphone\n" +
			"et les réponses des commerçants : un SMS reçu d'un destinataire dans le délai [inbox] witness_window\n" +
			"après que l'alerte l'a atteint.",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := alertID(args[0])
			if err != nil {
				return err
			}
			return runAlertShow(cmd.Context(), opts, id, g)
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "sortie JSON")
	return cmd
}

// messageStateFrench names one message's state.
var messageStateFrench = map[string]string{
	"queued":     "en attente",
	"sending":    "en cours d'envoi",
	"sent":       "envoyé",
	"delivered":  "remis",
	"failed":     "échec",
	"expired":    "expiré",
	"cancelled":  "annulé",
	"suppressed": "non envoyé (STOP)",
}

// unconfirmed reports a message taken as sent though no attempt was
// confirmed by the modem (no message reference): it may have gone out, so
// it is neither a failure nor a sure send.
func unconfirmed(m apitype.Message) bool {
	return m.State == "sent" && m.Uncertain && len(m.Refs) == 0
}

// missedReason says in French why a recipient did not get the alert; ""
// for a message that was sent or still may be.
func missedReason(m apitype.Message) string {
	switch m.State {
	case "failed":
		if m.LastError != "" {
			return "échec définitif de l'envoi (" + m.LastError + ")"
		}
		return "échec définitif de l'envoi"
	case "expired":
		return "pas envoyé à temps : délai de validité (alert_ttl) dépassé"
	case "cancelled":
		return "alerte annulée avant son envoi"
	case "suppressed":
		return "le commerçant a envoyé STOP avant l'envoi"
	}
	return ""
}

func runAlertShow(ctx context.Context, opts alertShowOptions, id uint64, g *globalOptions) error {
	rep, err := g.client().Alert(ctx, id)
	if err != nil {
		return err
	}
	if opts.json {
		return printJSON(g.stdout, rep)
	}
	printAlertReport(g.stdout, rep)
	return nil
}

func printCounts(w io.Writer, counts map[string]int) {
	var parts []string
	for _, s := range stateNames {
		if n := counts[s.key]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s.fr, n))
		}
	}
	if len(parts) == 0 {
		parts = []string{"aucun message"}
	}
	fmt.Fprintf(w, "Messages : %s\n", strings.Join(parts, ", "))
}

type alertListOptions struct{ json bool }

func newAlertListCommand(g *globalOptions) *cobra.Command {
	var opts alertListOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Historique des alertes",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			as, err := g.client().Alerts(cmd.Context())
			if err != nil {
				return err
			}
			if opts.json {
				return printJSON(g.stdout, as)
			}
			printAlertList(g.stdout, as)
			return nil
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "sortie JSON")
	return cmd
}
