package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"vigie/gateway/apitype"
	"vigie/gateway/client"
	"vigie/gateway/french"
	"vigie/gateway/phone"
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
		Use:   "preview (--zone ID… | --all) [--trade ID…] [--category C] [TEXTE | -]",
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
	fmt.Fprintln(g.stdout, "Aperçu seulement : rien n'a été envoyé.")
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
	if err := target.check(); err != nil {
		return draft{}, err
	}
	d := draft{in: bufio.NewReader(g.stdin), info: g.stdout, c: g.client()}
	if asJSON {
		// stdout is the JSON a script parses.
		d.info = g.stderr
	}
	text, err := alertText(ctx, args, d.in, d.info, g)
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
		Use:   "send (--zone ID… | --all) [--trade ID…] [--category C] [--yes] [--wait] [TEXTE | -]",
		Short: "Prévisualiser, confirmer et mettre en file une alerte",
		Long: "Montre l'aperçu, demande confirmation (sauf --yes) puis met l'alerte en file.\n" +
			"Sans texte sur un terminal, un formulaire guidé compose le texte ; « - » lit le texte sur l'entrée standard.\n" +
			"--wait suit l'envoi jusqu'au dernier SMS ; Ctrl-C arrête le suivi, pas l'envoi.",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAlertSend(cmd.Context(), opts, args, g)
		},
	}
	opts.target.addFlags(cmd)
	f := cmd.Flags()
	f.BoolVar(&opts.yes, "yes", false, "ne pas demander de confirmation")
	f.BoolVar(&opts.wait, "wait", false, "suivre l'envoi jusqu'à ce que chaque SMS soit parti ou en échec")
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
	if !opts.yes {
		ok, err := confirm(ctx, d.in, info, fmt.Sprintf("Envoyer à %d commerçants ? [o/N] ", d.preview.Recipients))
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(info, "Alerte abandonnée : rien n'a été envoyé.")
			return nil
		}
	}
	a, err := d.c.SendAlert(ctx, d.req)
	if err != nil {
		return err
	}
	fmt.Fprintf(info, "Alerte %d acceptée : %d destinataires, %d SMS chacun. Suivi : vigie alert show %d\n",
		a.ID, a.Recipients, a.Parts, a.ID)
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
	case g.stdinTTY:
		return askAlertForm(ctx, in, out)
	}
	return "", usageError{errors.New("texte de l'alerte manquant (en argument, ou « - » pour le lire sur l'entrée standard)")}
}

// alertForm is the fixed alert form of the schemes ("alerte commerces"):
// never the victim's name.
type alertForm struct {
	what, where, when, suspect, advice string
}

// askAlertForm asks the form's questions in French and composes the text.
// Only "what" is required.
func askAlertForm(ctx context.Context, in *bufio.Reader, out io.Writer) (string, error) {
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
	return strings.Join(kept, " ")
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
	fmt.Fprintf(w, "Texte envoyé :\n  %s\n", p.Text)
	enc := encodingFrench[p.Encoding]
	if enc == "" {
		enc = p.Encoding
	}
	fmt.Fprintf(w, "Codage : %s ; %d caractères, %d SMS par destinataire\n", enc, p.Chars, p.Parts)
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
		fmt.Fprintf(w, "  métier %-14s %-20s %d commerçants\n", tr.Trade, "("+tr.Name+")", tr.Recipients)
	}
	for _, z := range p.ByZone {
		fmt.Fprintf(w, "  zone %-16s %-20s %d commerçants\n", z.Zone, "("+z.Name+")", z.Recipients)
	}
	eta := "durée d'envoi estimée : " + french.Duration(time.Duration(p.ETASeconds*float64(time.Second)))
	if notice != "" {
		eta = "durée d'envoi inconnue : " + notice
	}
	fmt.Fprintf(w, "Destinataires : %d commerçants, %d SMS au total ; %s\n", p.Recipients, p.Recipients*p.Parts, eta)
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
	line, err := readLine(ctx, br)
	if errors.Is(err, errInterrupted) {
		fmt.Fprintln(out)
		return false, err
	}
	if err != nil && line == "" {
		// No answer at all (a script's empty input): not a "no" that
		// would exit 0 as if all were well.
		fmt.Fprintln(out)
		return false, usageError{errors.New("pas de réponse à la confirmation : rien n'a été envoyé (ajoutez --yes pour envoyer sans confirmation)")}
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "o", "oui", "y", "yes":
		return true, nil
	}
	return false, nil
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
}

func progressOf(a apitype.Alert) progress {
	c := a.Counts
	return progress{
		sent:      c["sent"] + c["delivered"],
		delivered: c["delivered"],
		failed:    c["failed"] + c["expired"],
		left:      c["queued"] + c["sending"],
		total:     a.Recipients,
	}
}

func (p progress) line(eta time.Duration, known bool) string {
	s := fmt.Sprintf("envoyés %d/%d, remis %d, échecs %d, restant %d", p.sent, p.total, p.delivered, p.failed, p.left)
	if p.left > 0 && known {
		s += ", fin estimée dans " + french.Duration(eta)
	}
	return s
}

// watch polls alert id until it is done (and returns it) or ctx ends: then
// it says that sending goes on, and returns nil, nil.
func (w watcher) watch(ctx context.Context, id uint64) (*apitype.Alert, error) {
	begin := time.Now()
	first := -1
	last := ""
	for {
		rep, err := w.c.Alert(ctx, id)
		if ctx.Err() != nil {
			return nil, w.stopped(id)
		}
		if err != nil {
			return nil, err
		}
		p := progressOf(rep.Alert)
		if first < 0 {
			first = p.left
		}
		// Once messages finish, the observed pace says more than the
		// configured rate.
		eta, known := time.Duration(p.left)*w.etaPerMessage, w.etaPerMessage > 0
		if done := first - p.left; done > 0 {
			eta, known = time.Duration(float64(time.Since(begin))/float64(done)*float64(p.left)), true
		}
		line := p.line(eta, known)
		switch {
		case w.tty:
			writeControl(w.out, "\r\033[K")
			fmt.Fprint(w.out, line)
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
			return &rep.Alert, nil
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
	fmt.Fprintf(w.out, "Suivi interrompu : l'envoi continue sans vous. Suivi : vigie alert show %d\n", id)
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
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "cancel ID",
		Short: "Annuler ce qui n'est pas encore parti d'une alerte",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := alertID(args[0])
			if err != nil {
				return err
			}
			res, err := g.client().CancelAlert(cmd.Context(), id)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(g.stdout, res)
			}
			fmt.Fprintf(g.stdout, "Alerte %d : %d SMS annulés (ceux déjà partis ne peuvent pas être rappelés).\n", id, res.Cancelled)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "sortie JSON")
	return cmd
}

func newAlertFollowUpCommand(g *globalOptions) *cobra.Command {
	var asJSON, yes bool
	cmd := &cobra.Command{
		Use:   "followup ID [--yes] TEXTE…|-",
		Short: "Envoyer une suite (fin d'alerte) aux mêmes destinataires",
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
			orig, err := c.Alert(ctx, id)
			if err != nil {
				return err
			}
			if !yes {
				fmt.Fprintf(info, "Suite de l'alerte %d (%s, %s) :\n  %s\n", orig.ID, orig.Category,
					orig.CreatedAt.Local().Format("02/01 15:04"), text)
				ok, err := confirm(ctx, in, info, fmt.Sprintf("Envoyer aux %d destinataires de l'alerte %d ? [o/N] ", orig.Recipients, orig.ID))
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
			fmt.Fprintf(g.stdout, "Suite de l'alerte %d acceptée (alerte %d) : %d destinataires, %d SMS chacun. Suivi : vigie alert show %d\n",
				id, a.ID, a.Recipients, a.Parts, a.ID)
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "ne pas demander de confirmation")
	cmd.Flags().BoolVar(&asJSON, "json", false, "sortie JSON")
	return cmd
}

type alertTestOptions struct {
	to   string
	json bool
}

func newAlertTestCommand(g *globalOptions) *cobra.Command {
	var opts alertTestOptions
	cmd := &cobra.Command{
		Use:   "test --to NUMERO [TEXTE]",
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
		Args:  exactArgs(1),
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

func printAlertReport(w io.Writer, rep apitype.AlertReport) {
	target := strings.Join(rep.Zones, ", ")
	if rep.All {
		target = "tous les abonnés"
	}
	if len(rep.Trades) > 0 {
		target += " ; métiers : " + strings.Join(rep.Trades, ", ")
	}
	if rep.FollowUpOf != 0 {
		target += fmt.Sprintf(" (suite de l'alerte %d)", rep.FollowUpOf)
	}
	fmt.Fprintf(w, "Alerte %d (%s) par %s le %s\n", rep.ID, rep.Category, rep.Author, rep.CreatedAt.Local().Format("02/01/2006 15:04:05"))
	fmt.Fprintf(w, "Cible : %s — %d destinataires, %d SMS chacun (%s)\n", target, rep.Recipients, rep.Parts, rep.Encoding)
	fmt.Fprintf(w, "Texte : %s\n", rep.Rendered)
	printCounts(w, rep.Counts)
	if rep.Done {
		fmt.Fprintln(w, "Terminée.")
	} else {
		fmt.Fprintln(w, "En cours.")
	}
	if len(rep.Messages) == 0 {
		return
	}
	fmt.Fprintln(w, "Destinataires :")
	var missed []apitype.Message
	for _, m := range rep.Messages {
		state := messageStateFrench[m.State]
		if unconfirmed(m) {
			state = "envoi non confirmé"
		}
		line := fmt.Sprintf("  %-20s %s", phone.Mask(m.To), state)
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
			line += " — dernière erreur : " + m.LastError
		}
		fmt.Fprintln(w, line)
		if missedReason(m) != "" {
			missed = append(missed, m)
		}
	}
	if len(missed) == 0 {
		return
	}
	fmt.Fprintf(w, "Ne l'ont pas reçue (%d) :\n", len(missed))
	for _, m := range missed {
		fmt.Fprintf(w, "  %-20s %s\n", phone.Mask(m.To), missedReason(m))
	}
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
			if len(as) == 0 {
				fmt.Fprintln(g.stdout, "Aucune alerte.")
			}
			for _, a := range as {
				fmt.Fprintf(g.stdout, "%4d  %s  %-14s %3d dest.  envoyés %d  %s\n", a.ID,
					a.CreatedAt.Local().Format("02/01 15:04"), a.Category, a.Recipients, a.Counts["sent"]+a.Counts["delivered"], a.Author)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "sortie JSON")
	return cmd
}
