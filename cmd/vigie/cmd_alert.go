package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"vigie/gateway/apitype"
	"vigie/gateway/phone"
)

func newAlertCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "alert",
		Aliases: []string{"alerte"},
		Short:   "Composer, envoyer et suivre les alertes",
	}
	cmd.AddCommand(newAlertSendCommand(g), newAlertShowCommand(g), newAlertListCommand(g),
		newAlertCancelCommand(g), newAlertFollowUpCommand(g))
	return cmd
}

type alertSendOptions struct {
	zones    []string
	trades   []string
	all      bool
	category string
	yes      bool
	json     bool
}

func newAlertSendCommand(g *globalOptions) *cobra.Command {
	var opts alertSendOptions
	cmd := &cobra.Command{
		Use:   "send (--zone ID… | --all) [--trade ID…] [--category C] [--yes] TEXTE",
		Short: "Prévisualiser, confirmer et mettre en file une alerte",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAlertSend(cmd.Context(), opts, args[0], g)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.zones, "zone", nil, "zone visée (répétable) ; ses sous-zones sont incluses")
	f.BoolVar(&opts.all, "all", false, "tous les abonnés actifs")
	f.StringSliceVar(&opts.trades, "trade", nil, "seulement ces métiers (répétable), avec --zone ou --all")
	f.StringVar(&opts.category, "category", "", "vol, escroquerie, fausse-monnaie ou autre")
	f.BoolVar(&opts.yes, "yes", false, "ne pas demander de confirmation")
	f.BoolVar(&opts.json, "json", false, "sortie JSON")
	return cmd
}

func runAlertSend(ctx context.Context, opts alertSendOptions, text string, g *globalOptions) error {
	if opts.all == (len(opts.zones) > 0) {
		return usageError{fmt.Errorf("indiquez --zone ID (une ou plusieurs) ou bien --all")}
	}
	c := g.client()
	req := apitype.AlertRequest{Zones: opts.zones, Trades: opts.trades, All: opts.all, Category: opts.category, Text: text}
	if !opts.yes {
		p, err := c.PreviewAlert(ctx, req)
		if err != nil {
			return err
		}
		printPreview(g.stdout, p)
		ok, err := confirm(g.stdin, g.stdout, fmt.Sprintf("Envoyer à %d commerçants ? [o/N] ", p.Recipients))
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(g.stdout, "Alerte abandonnée : rien n'a été envoyé.")
			return nil
		}
	}
	a, err := c.SendAlert(ctx, req)
	if err != nil {
		return err
	}
	if opts.json {
		return printJSON(g.stdout, a)
	}
	fmt.Fprintf(g.stdout, "Alerte %d acceptée : %d destinataires, %d SMS chacun. Suivi : vigie alert show %d\n",
		a.ID, a.Recipients, a.Parts, a.ID)
	return nil
}

func printPreview(w io.Writer, p apitype.Preview) {
	fmt.Fprintf(w, "Texte envoyé :\n  %s\n", p.Text)
	fmt.Fprintf(w, "Codage : %s, %d caractères, %d SMS par destinataire\n", p.Encoding, p.Chars, p.Parts)
	for _, z := range p.ByZone {
		fmt.Fprintf(w, "  zone %-16s %d commerçants\n", z.Zone, z.Recipients)
	}
	fmt.Fprintf(w, "Destinataires : %d, durée d'envoi estimée : %s\n", p.Recipients,
		frenchDuration(time.Duration(p.ETASeconds*float64(time.Second))))
}

// confirm asks a yes/no question; only "o"/"oui" (or y/yes) says yes.
func confirm(in io.Reader, out io.Writer, question string) (bool, error) {
	fmt.Fprint(out, question)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return false, nil
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "o", "oui", "y", "yes":
		return true, nil
	}
	return false, nil
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
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "followup ID TEXTE",
		Short: "Envoyer une suite (fin d'alerte) aux mêmes destinataires",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := alertID(args[0])
			if err != nil {
				return err
			}
			a, err := g.client().FollowUp(cmd.Context(), id, args[1])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(g.stdout, a)
			}
			fmt.Fprintf(g.stdout, "Suite de l'alerte %d acceptée (alerte %d) : %d destinataires. Suivi : vigie alert show %d\n",
				id, a.ID, a.Recipients, a.ID)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "sortie JSON")
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

func runAlertShow(ctx context.Context, opts alertShowOptions, id uint64, g *globalOptions) error {
	rep, err := g.client().Alert(ctx, id)
	if err != nil {
		return err
	}
	if opts.json {
		return printJSON(g.stdout, rep)
	}
	w := g.stdout
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
	for _, m := range rep.Messages {
		line := fmt.Sprintf("  %-22s %s", phone.Mask(m.To), m.State)
		if m.Uncertain {
			line += " (incertain : peut-être reçu deux fois)"
		}
		if m.LastError != "" && m.State != "sent" {
			line += " — " + m.LastError
		}
		fmt.Fprintln(w, line)
	}
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
