package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// stateFrench names the daemon and modem states for the technician.
var stateFrench = map[string]string{
	"starting": "démarrage",
	"ready":    "prêt",
	"sending":  "envoi en cours",
	"degraded": "dégradé",
	"fault":    "en panne",
	"stopped":  "arrêté",
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
				fmt.Fprintf(w, "Modem %s (%s) : %s, signal %d/5 (%d dBm), réseau %s, opérateur %q, %d envoyés, %d reçus\n",
					m.Name, m.Device, stateFrench[m.State], m.SignalBars, m.SignalDBm, m.Registration, m.Operator, m.Sent, m.Received)
				if m.LastError != "" {
					fmt.Fprintf(w, "  dernière erreur (%s) : %s\n", m.LastErrorAt.Local().Format("02/01 15:04:05"), m.LastError)
				}
			}
			printCounts(w, st.Queue)
			fmt.Fprintf(w, "Envoyés aujourd'hui : %d SMS\n", st.SentToday)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "sortie JSON")
	return cmd
}
