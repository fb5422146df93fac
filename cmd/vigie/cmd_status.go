package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"vigie/gateway/apitype"
	"vigie/gateway/client"
	"vigie/gateway/french"
)

// stateFrench names the daemon and modem states for the technician.
var stateFrench = map[string]string{
	"starting": "démarrage",
	"ready":    "prêt",
	"sending":  "envoi en cours",
	"degraded": "dégradé",
	"fault":    "en panne",
	"stopped":  "arrêté",
	// modem states
	"no-network":   "pas de réseau",
	"daily-cap":    "plafond journalier atteint (reprise demain)",
	"send-blocked": "envoi refusé par l'opérateur (SIM bloquée ou sans service SMS)",
	"resetting":    "redémarrage du modem",
	"sim-locked":   "SIM verrouillée",
	"no-answer":    "le modem ne répond pas",
}

// registrationFrench names the network registration states.
var registrationFrench = map[string]string{
	"home":           "enregistré",
	"roaming":        "itinérance",
	"searching":      "recherche du réseau",
	"denied":         "enregistrement refusé",
	"not-registered": "non enregistré",
	"unknown":        "inconnu",
}

// modemOpen reports whether a modem in state is open and answering, so
// that what it says of its SIM and network is current.
func modemOpen(state string) bool {
	switch state {
	case apitype.ModemReady, apitype.ModemNoNetwork, apitype.ModemSendBlocked, apitype.ModemDailyCap:
		return true
	}
	return false
}

// errorKindFrench says a modem's last error in French (by its kind) and
// what the technician does about it.
var errorKindFrench = map[string]struct{ what, next string }{
	apitype.ErrKindNoDevice:    {"modem absent", "vérifiez le câble USB et l'alimentation du modem ; journalctl -u vigie"},
	apitype.ErrKindPermission:  {"accès au port du modem refusé", "l'utilisateur vigie doit être du groupe dialout ; journalctl -u vigie"},
	apitype.ErrKindPortBusy:    {"port du modem occupé par un autre programme", "arrêtez ModemManager : sudo systemctl disable --now ModemManager"},
	apitype.ErrKindSIMLocked:   {"SIM verrouillée (code PIN ou PUK)", "vérifiez le PIN dans /etc/vigie/vigie.toml, puis sudo systemctl restart vigie"},
	apitype.ErrKindTimeout:     {"le modem ne répond pas", "débranchez puis rebranchez le modem ; journalctl -u vigie"},
	apitype.ErrKindClosed:      {"liaison avec le modem coupée", "vérifiez le câble USB ; journalctl -u vigie"},
	apitype.ErrKindBadResponse: {"réponse du modem illisible", "journalctl -u vigie ; signalez-le avec vigie modem probe"},
	apitype.ErrKindNetwork:     {"refus du modem ou du réseau", "journalctl -u vigie"},
	apitype.ErrKindOther:       {"erreur du modem", "journalctl -u vigie"},
}

// modemErrorFrench is a modem's last error for the technician: the French
// of its kind, with the modem's own code when it gave one.
func modemErrorFrench(m apitype.ModemStatus) string {
	k, ok := errorKindFrench[m.LastErrorKind]
	switch {
	case !ok:
		return inert(m.LastError) // a daemon that does not classify
	case m.LastErrorKind == apitype.ErrKindNetwork:
		return k.what + " (" + inert(m.LastError) + ")"
	}
	return k.what
}

// modemAdvice says what is wrong with a modem that cannot send and the
// next step; "" when nothing needs a person.
func modemAdvice(m apitype.ModemStatus) string {
	// A modem starting again after a short loss is no one's business
	// unless this start itself failed.
	failing := m.State != apitype.ModemStopped && (m.State != apitype.ModemStarting || !m.LastErrorAt.Before(m.Since))
	if k, ok := errorKindFrench[m.LastErrorKind]; ok && !modemOpen(m.State) && failing {
		if m.State == apitype.ModemSIMLocked {
			k = errorKindFrench[apitype.ErrKindSIMLocked]
		}
		return k.what + " : " + k.next
	}
	switch m.State {
	case apitype.ModemNoNetwork:
		return "pas de réseau : vérifiez l'antenne et la couverture ; les envois reprendront seuls"
	case apitype.ModemSendBlocked:
		return "l'opérateur refuse les SMS : vérifiez la ligne (forfait, SMS autorisés) auprès de l'opérateur"
	case apitype.ModemSIMLocked:
		k := errorKindFrench[apitype.ErrKindSIMLocked]
		return k.what + " : " + k.next
	}
	return ""
}

// printModem writes one modem's health snapshot for the technician. What
// only an open modem can tell (SIM, signal, network) is shown while it is
// open; otherwise when it was last seen.
func printModem(w io.Writer, m apitype.ModemStatus) {
	fmt.Fprintf(w, "Modem %s (%s) : %s", m.Name, m.Device, stateFrench[m.State])
	if !m.Since.IsZero() {
		fmt.Fprintf(w, " depuis %s", m.Since.Local().Format("02/01 15:04:05"))
	}
	fmt.Fprintln(w)
	if advice := modemAdvice(m); advice != "" {
		fmt.Fprintf(w, "  %s\n", advice)
	}
	if modemOpen(m.State) {
		if m.SIM != "" || m.Registration != "" {
			fmt.Fprintf(w, "  SIM %s, signal %d/5 (%d dBm), réseau : %s, opérateur « %s »\n",
				inert(m.SIM), m.SignalBars, m.SignalDBm, registrationFrench[m.Registration], inert(m.Operator))
		}
		if m.Model != "" || m.IMEI != "" {
			fmt.Fprintf(w, "  %s %s, version %s, IMEI %s, centre SMS %s\n", inert(m.Manufacturer), inert(m.Model), inert(m.Firmware), inert(m.IMEI), inert(m.SMSC))
		}
		if m.StorageTotal > 0 {
			fmt.Fprintf(w, "  mémoire SMS : %d/%d\n", m.StorageUsed, m.StorageTotal)
		}
	} else if !m.ProbedAt.IsZero() {
		fmt.Fprintf(w, "  dernier contact avec le modem le %s ; SIM et signal inconnus depuis\n", m.ProbedAt.Local().Format("02/01 15:04:05"))
	} else {
		fmt.Fprintln(w, "  aucun contact avec le modem depuis le démarrage")
	}
	fmt.Fprintf(w, "  %s, %s, %s, %s, %d sans réponse, %s, %s, %s\n",
		count(m.Sent, "envoyé", "envoyés"), count(m.Failed, "échec d'envoi", "échecs d'envoi"),
		count(m.Received, "reçu", "reçus"), count(m.Reports, "accusé de réception", "accusés de réception"),
		m.Timeouts, count(m.Reopens, "réouverture", "réouvertures"), count(m.Resets, "redémarrage", "redémarrages"),
		count(m.USBResets, "réinitialisation USB", "réinitialisations USB"))
	if m.LastError != "" {
		fmt.Fprintf(w, "  dernière erreur (%s) : %s\n", m.LastErrorAt.Local().Format("02/01 15:04:05"), modemErrorFrench(m))
	}
}

type statusOptions struct {
	json     bool
	check    bool
	watch    bool
	interval time.Duration
}

func newStatusCommand(g *globalOptions) *cobra.Command {
	var opts statusOptions
	cmd := &cobra.Command{
		Use:     "status",
		Aliases: []string{"etat"},
		Short:   "État du démon, des modems et de la file",
		Long: "Montre l'état du démon, de chaque modem (avec la cause et quoi faire s'il ne peut pas envoyer),\n" +
			"de la file, des envois du jour et des messages non lus.\n" +
			"--check, pour la supervision, écrit une seule ligne et sort avec le code 0 si tout va bien,\n" +
			"1 si Vigie est dégradé ou démarre, 2 s'il est en panne ou si le démon ne répond pas.",
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), opts, g)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.json, "json", false, "sortie JSON")
	f.BoolVar(&opts.check, "check", false, "pour la supervision : une ligne, code de sortie 0 si tout va bien, 1 si dégradé, 2 si en panne")
	f.BoolVar(&opts.watch, "watch", false, "rafraîchir l'affichage jusqu'à Ctrl-C")
	f.DurationVar(&opts.interval, "interval", 2*time.Second, "avec --watch : intervalle de rafraîchissement")
	return cmd
}

// clearScreen moves the cursor home and clears the terminal.
const clearScreen = "\033[H\033[2J"

func runStatus(ctx context.Context, opts statusOptions, g *globalOptions) error {
	if opts.interval <= 0 {
		return usageError{fmt.Errorf("--interval doit être positif : %v", opts.interval)}
	}
	c := g.client()
	if opts.check {
		if opts.watch || opts.json {
			return usageError{errors.New("--check donne une seule ligne : sans --watch ni --json")}
		}
		st, err := c.Status(ctx)
		line, code := checkStatus(st, err)
		fmt.Fprintln(g.stdout, line)
		if code != checkOK {
			return code
		}
		return nil
	}
	for n := 0; ; n++ {
		st, err := c.Status(ctx)
		if opts.watch && ctx.Err() != nil {
			return nil // Ctrl-C: the end of watching, not an error
		}
		if err != nil {
			return err
		}
		switch {
		case opts.watch && g.stdoutTTY && !opts.json:
			writeControl(g.stdout, clearScreen)
		case opts.watch && n > 0:
			fmt.Fprintln(g.stdout, "----")
		}
		if opts.json {
			err = printJSON(g.stdout, st)
		} else {
			printStatus(g.stdout, st)
		}
		if err != nil || !opts.watch {
			return err
		}
		if g.stdoutTTY && !opts.json {
			fmt.Fprintf(g.stdout, "\nActualisé à %s, toutes les %s — Ctrl-C pour quitter.\n",
				time.Now().Format("15:04:05"), french.Duration(opts.interval))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(opts.interval):
		}
	}
}

// ledFrench says what the status LED shows in each daemon state (SPEC §8).
var ledFrench = map[string]string{
	"starting": "clignotement rapide (100/100 ms)",
	"ready":    "allumé fixe",
	"sending":  "clignotement 500/500 ms",
	"degraded": "clignotement lent (100/1900 ms)",
	"fault":    "clignotement très rapide (50/150 ms)",
	"stopped":  "éteint",
}

// canaryFrench names the canary's states.
var canaryFrench = map[string]string{
	apitype.CanaryPending:   "en attente de l'accusé de réception",
	apitype.CanaryDelivered: "remis",
	apitype.CanaryFailed:    "ÉCHEC",
}

// printClock says how far the system clock is from the network's time.
// When the modem that told it no longer answers, the figure is its last
// reading, and says when it was taken.
func printClock(w io.Writer, c *apitype.Clock, modems []apitype.ModemStatus) {
	if c == nil {
		return
	}
	lost := time.Time{} // when the source modem last told the time, if it no longer answers
	for _, m := range modems {
		switch m.State {
		case apitype.ModemFault, apitype.ModemNoAnswer, apitype.ModemResetting, apitype.ModemStarting:
			if m.Name == c.Source {
				lost = m.ClockReadAt
			}
		}
	}
	offset := french.Duration(time.Duration(c.OffsetSeconds * float64(time.Second)))
	switch {
	case c.Skewed:
		fmt.Fprintf(w, "HORLOGE : %s\n", c.Message)
	case !lost.IsZero():
		fmt.Fprintf(w, "Horloge du système : à l'heure du réseau à la dernière lecture, le %s (écart de %s, modem %s, qui ne répond plus)\n",
			lost.Local().Format("02/01 15:04"), offset, c.Source)
	default:
		fmt.Fprintf(w, "Horloge du système : à l'heure du réseau (écart de %s, modem %s)\n", offset, c.Source)
	}
}

// messagesAndParts says messages and the SMS parts they take: « 12
// messages (15 SMS) », or « 12 messages » when each took one.
func messagesAndParts(messages, parts int) string {
	s := count(messages, "message", "messages")
	if parts != messages {
		s += " (" + count(parts, "SMS", "SMS") + ")"
	}
	return s
}

// perMinuteFrench says a measured pace: « 10 messages », « 1,5 message ».
func perMinuteFrench(r float64) string {
	r = math.Round(r*10) / 10
	if r >= 10 || r == math.Trunc(r) {
		return count(int(math.Round(r)), "message", "messages")
	}
	s := strings.Replace(strconv.FormatFloat(r, 'f', 1, 64), ".", ",", 1)
	if r < 2 {
		return s + " message" // French: singular below two
	}
	return s + " messages"
}

// printStatus writes the status screen.
func printStatus(w io.Writer, st apitype.Status) {
	fmt.Fprintf(w, "Vigie %s — %s : %s\n", st.Version, st.Station, stateFrench[st.State])
	if led := ledFrench[st.State]; led != "" {
		fmt.Fprintf(w, "Voyant : %s\n", led)
	}
	if st.DatabaseError != "" {
		fmt.Fprintf(w, "BASE DE DONNÉES : %s\n", st.DatabaseError)
	}
	if st.WriteError != "" {
		fmt.Fprintf(w, "BASE DE DONNÉES : %s\n", st.WriteError)
	}
	if st.BackupError != "" {
		fmt.Fprintf(w, "SAUVEGARDE : %s\n", st.BackupError)
	}
	printClock(w, st.Clock, st.Modems)
	if c := st.Canary; c != nil {
		fmt.Fprintf(w, "SMS témoin du %s : %s", c.LastSent.Local().Format("02/01 15:04"), canaryFrench[c.State])
		if c.Error != "" {
			fmt.Fprintf(w, " — %s", c.Error)
		}
		fmt.Fprintln(w)
	}
	if !st.StartedAt.IsZero() {
		fmt.Fprintf(w, "Démarré le %s\n", st.StartedAt.Local().Format("02/01/2006 15:04:05"))
	}
	if len(st.Modems) == 0 {
		fmt.Fprintln(w, "Aucun modem configuré.")
	}
	for _, m := range st.Modems {
		printModem(w, m)
	}
	printCounts(w, st.Queue)
	if st.QueueETASeconds > 0 {
		fmt.Fprintf(w, "Fin de la file estimée dans %s (rythme mesuré : %s par minute)\n",
			french.Duration(time.Duration(st.QueueETASeconds*float64(time.Second))), perMinuteFrench(st.SendPerMinute))
	}
	fmt.Fprintf(w, "Envoyés aujourd'hui : %s\n", messagesAndParts(st.SentTodayMessages, st.SentToday))
	if st.WitnessUnread > 0 {
		// Apart: a shop's answer to an alert may be what the patrol needs now.
		fmt.Fprintf(w, "Réponses aux alertes : %s — à lire avec vigie inbox\n",
			count(st.WitnessUnread, "réponse non lue", "réponses non lues"))
	}
	if others := st.InboxUnread - st.WitnessUnread; others > 0 {
		one, many := "message non lu de commerçant", "messages non lus de commerçants"
		if st.WitnessUnread > 0 {
			one, many = "autre "+one, "autres "+many
		}
		fmt.Fprintf(w, "Boîte de réception : %s — à lire avec vigie inbox\n", count(others, one, many))
	} else if st.WitnessUnread > 0 {
		fmt.Fprintln(w, "Boîte de réception : aucun autre message non lu")
	} else {
		fmt.Fprintln(w, "Boîte de réception : aucun message non lu")
	}
	fmt.Fprintf(w, "Destinataires distincts ce mois-ci : %d", st.RecipientsThisMonth)
	if st.RecipientsWarn > 0 && st.RecipientsThisMonth >= st.RecipientsWarn*9/10 {
		fmt.Fprintf(w, " — ATTENTION : proche de la limite de %d de l'abonnement", st.RecipientsWarn)
	}
	fmt.Fprintln(w)
}

// checkCode is the exit code of `status --check`, for monitoring scripts
// (Nagios-like: 0 ok, 1 degraded, 2 down).
type checkCode int

const (
	checkOK       checkCode = 0
	checkDegraded checkCode = 1
	checkDown     checkCode = 2
)

func (c checkCode) Error() string { return fmt.Sprintf("status --check: %d", int(c)) }

// checkStatus sums up the status in one French line and its exit code.
func checkStatus(st apitype.Status, err error) (string, checkCode) {
	if err != nil {
		if errors.Is(err, client.ErrUnreachable) {
			return "EN PANNE : le démon vigie ne répond pas : systemctl status vigie ; journalctl -u vigie", checkDown
		}
		return "EN PANNE : état illisible (" + inert(err.Error()) + ") : journalctl -u vigie", checkDown
	}
	ready := 0
	var why []string
	for _, m := range st.Modems {
		if m.State == apitype.ModemReady {
			ready++
			continue
		}
		reason := modemAdvice(m)
		if reason == "" {
			reason = stateFrench[m.State]
		}
		why = append(why, "modem "+m.Name+" : "+reason)
	}
	for _, e := range []string{st.DatabaseError, st.WriteError} {
		if e != "" {
			why = append([]string{"base de données : " + e}, why...)
		}
	}
	if st.Clock != nil && st.Clock.Skewed {
		why = append(why, "horloge : "+st.Clock.Message)
	}
	if st.Canary != nil && st.Canary.State == apitype.CanaryFailed {
		why = append(why, "SMS témoin en échec")
	}
	modems := fmt.Sprintf("%d prêt sur %d", ready, len(st.Modems))
	if len(st.Modems) == 1 {
		modems = "modem " + map[bool]string{true: "prêt", false: "pas prêt"}[ready == 1]
	}
	detail := strings.Join(why, " ; ")
	if st.State == "ready" || st.State == "sending" {
		return "OK : Vigie " + stateFrench[st.State] + ", " + modems, checkOK
	}
	if detail == "" {
		detail = "Vigie " + stateFrench[st.State]
	}
	if st.State == "fault" || st.State == "stopped" {
		return "EN PANNE : " + detail, checkDown
	}
	return "DÉGRADÉ : " + detail, checkDegraded
}
