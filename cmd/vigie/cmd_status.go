package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"vigie/gateway/apitype"
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
		fmt.Fprintf(w, "  SIM %s, signal %d/5 (%d dBm), réseau : %s, opérateur %q\n",
			m.SIM, m.SignalBars, m.SignalDBm, registrationFrench[m.Registration], m.Operator)
	}
	if m.Model != "" || m.IMEI != "" {
		fmt.Fprintf(w, "  %s %s, version %s, IMEI %s, centre SMS %s\n", m.Manufacturer, m.Model, m.Firmware, m.IMEI, m.SMSC)
	}
	if m.StorageTotal > 0 {
		fmt.Fprintf(w, "  mémoire SMS : %d/%d\n", m.StorageUsed, m.StorageTotal)
	}
	fmt.Fprintf(w, "  %d envoyés, %d échecs d'envoi, %d reçus, %d accusés de réception, %d sans réponse, %d réouvertures, %d redémarrages\n",
		m.Sent, m.Failed, m.Received, m.Reports, m.Timeouts, m.Reopens, m.Resets)
	if m.LastError != "" {
		fmt.Fprintf(w, "  dernière erreur (%s) : %s\n", m.LastErrorAt.Local().Format("02/01 15:04:05"), m.LastError)
	}
}

func newStatusCommand(g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "status",
		Aliases: []string{"etat"},
		Short:   "État du démon, des modems et de la file",
		Args:    exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := g.client().Status(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(g.stdout, st)
			}
			w := g.stdout
			fmt.Fprintf(w, "Vigie %s — %s : %s\n", st.Version, st.Station, stateFrench[st.State])
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
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "sortie JSON")
	return cmd
}
