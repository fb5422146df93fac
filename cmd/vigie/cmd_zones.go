package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"vigie/gateway/apitype"
)

func newZonesCommand(g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "zones",
		Short: "Zones et métiers, avec le nombre d'abonnés actifs",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			zs, err := g.client().Zones(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(g.stdout, zs)
			}
			printZones(g.stdout, zs)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "sortie JSON")
	return cmd
}

func printZones(w io.Writer, zs apitype.Zones) {
	fmt.Fprintf(w, "Zones (%d) — abonnés actifs de la zone ; atteints par une alerte à la zone, sous-zones comprises :\n", len(zs.Zones))
	for _, z := range zs.Zones {
		fmt.Fprintf(w, "  %-18s %-22s %4d abonnés  %4d atteints", z.ID, z.Name, z.Subscribers, z.Reach)
		if z.Parent != "" {
			fmt.Fprintf(w, "  dans %s", z.Parent)
		}
		if len(z.Aliases) > 0 {
			fmt.Fprintf(w, "  (aussi : %s)", strings.Join(z.Aliases, ", "))
		}
		fmt.Fprintln(w)
	}
	if len(zs.Trades) == 0 {
		fmt.Fprintln(w, "Aucun métier configuré.")
		return
	}
	fmt.Fprintf(w, "Métiers (%d) :\n", len(zs.Trades))
	for _, t := range zs.Trades {
		fmt.Fprintf(w, "  %-18s %-22s %4d abonnés", t.ID, t.Name, t.Subscribers)
		if len(t.Aliases) > 0 {
			fmt.Fprintf(w, "  (aussi : %s)", strings.Join(t.Aliases, ", "))
		}
		fmt.Fprintln(w)
	}
}
