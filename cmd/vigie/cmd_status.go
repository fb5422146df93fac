package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"vigie/gateway/apitype"
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

// printModem writes one modem's health snapshot for the technician.
func printModem(w io.Writer, m apitype.ModemStatus) {
	fmt.Fprintf(w, "Modem %s (%s) : %s", m.Name, m.Device, stateFrench[m.State])
	if !m.Since.IsZero() {
		fmt.Fprintf(w, " depuis %s", m.Since.Local().Format("02/01 15:04:05"))
	}
	fmt.Fprintln(w)
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
	fmt.Fprintf(w, "  %s, %s, %s, %s, %d sans réponse, %s, %s, %s\n",
		count(m.Sent, "envoyé", "envoyés"), count(m.Failed, "échec d'envoi", "échecs d'envoi"),
		count(m.Received, "reçu", "reçus"), count(m.Reports, "accusé de réception", "accusés de réception"),
		m.Timeouts, count(m.Reopens, "réouverture", "réouvertures"), count(m.Resets, "redémarrage", "redémarrages"),
		count(m.USBResets, "réinitialisation USB", "réinitialisations USB"))
	if m.LastError != "" {
		fmt.Fprintf(w, "  dernière erreur (%s) : %s\n", m.LastErrorAt.Local().Format("02/01 15:04:05"), m.LastError)
	}
}

type statusOptions struct {
	json     bool
	watch    bool
	interval time.Duration
}

func newStatusCommand(g *globalOptions) *cobra.Command {
	var opts statusOptions
	cmd := &cobra.Command{
		Use:     "status",
		Aliases: []string{"etat"},
		Short:   "État du démon, des modems et de la file",
		Args:    exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), opts, g)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.json, "json", false, "sortie JSON")
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

// printStatus writes the status screen.
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
func printClock(w io.Writer, c *apitype.Clock) {
	switch {
	case c == nil:
	case c.Skewed:
		fmt.Fprintf(w, "HORLOGE : %s\n", c.Message)
	default:
		fmt.Fprintf(w, "Horloge du système : à l'heure du réseau (écart de %s, modem %s)\n",
			french.Duration(time.Duration(c.OffsetSeconds*float64(time.Second))), c.Source)
	}
}

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
	printClock(w, st.Clock)
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
	fmt.Fprintf(w, "Envoyés aujourd'hui : %d SMS\n", st.SentToday)
	fmt.Fprintf(w, "Destinataires distincts ce mois-ci : %d", st.RecipientsThisMonth)
	if st.RecipientsWarn > 0 && st.RecipientsThisMonth >= st.RecipientsWarn*9/10 {
		fmt.Fprintf(w, " — ATTENTION : proche de la limite de %d de l'abonnement", st.RecipientsWarn)
	}
	fmt.Fprintln(w)
}
