package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"vigie/gateway/phone"
)

func newSubscribersCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "subscribers",
		Aliases: []string{"abonnes"},
		Short:   "Gérer les commerçants abonnés",
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "Lister les abonnés",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			subs, err := g.client().Subscribers(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(g.stdout, subs)
			}
			if len(subs) == 0 {
				fmt.Fprintln(g.stdout, "Aucun abonné.")
			}
			for _, s := range subs {
				fmt.Fprintf(g.stdout, "%-20s %-8s %s\n", phone.Mask(s.Phone), s.Status, strings.Join(s.Zones, ", "))
			}
			return nil
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "sortie JSON")
	cmd.AddCommand(list)
	return cmd
}
