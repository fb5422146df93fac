package main

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"vigie/gateway/apitype"
)

// auditOptions are the flags of `vigie audit`.
type auditOptions struct {
	json  bool
	since string
}

func newAuditCommand(g *globalOptions) *cobra.Command {
	var opts auditOptions
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Journal d'audit : qui a fait quoi, et quand",
		Long: "Liste les changements faits par le démon à la demande d'un utilisateur (alertes, annulations,\n" +
			"suites, abonnés, imports, effacements), une phrase par changement : quand, qui, quoi.\n" +
			"--json donne le détail de chaque enregistrement (route, requête, réponse, empreintes).\n" +
			"Chaque enregistrement porte l'empreinte du précédent : « vigie audit verify » détecte\n" +
			"un enregistrement modifié ou supprimé.",
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAudit(cmd.Context(), opts, g)
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "sortie JSON")
	cmd.Flags().StringVar(&opts.since, "since", "", "seulement depuis cette date (AAAA-MM-JJ, AAAA-MM-JJ HH:MM ou JJ/MM/AAAA)")

	var verifyJSON bool
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Vérifier que le journal d'audit n'a pas été modifié",
		Long: "Vérifie la chaîne d'empreintes du journal d'audit : un enregistrement modifié ou supprimé est nommé.\n" +
			"Les enregistrements purgés par la rétention ([retention] months) ne sont plus vérifiés : la vérification\n" +
			"part du premier enregistrement gardé, qui doit prolonger le dernier purgé.",
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAuditVerify(cmd.Context(), verifyJSON, g)
		},
	}
	verify.Flags().BoolVar(&verifyJSON, "json", false, "sortie JSON")
	cmd.AddCommand(verify)
	return cmd
}

// sinceLayouts are the date forms --since accepts, in local time.
var sinceLayouts = []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "02/01/2006", "02/01/2006 15:04"}

// parseSince reads a --since date in local time, or RFC 3339.
func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, l := range sinceLayouts {
		if t, err := time.ParseInLocation(l, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageError{fmt.Errorf("date invalide pour --since : %q (exemples : 2026-03-14, \"2026-03-14 09:30\", 14/03/2026)", s)}
}

func runAudit(ctx context.Context, opts auditOptions, g *globalOptions) error {
	var since time.Time
	if opts.since != "" {
		var err error
		if since, err = parseSince(opts.since); err != nil {
			return err
		}
	}
	recs, err := g.client().Audit(ctx, since)
	if err != nil {
		return err
	}
	if opts.json {
		if recs == nil {
			recs = []apitype.AuditRecord{}
		}
		return printJSON(g.stdout, recs)
	}
	if len(recs) == 0 {
		fmt.Fprintln(g.stdout, "Aucun enregistrement dans le journal d'audit.")
		return nil
	}
	// Zones by name; without them (an old daemon) the sentences say ids.
	names := map[string]string{}
	if zs, err := g.client().Zones(ctx); err == nil {
		for _, z := range zs.Zones {
			names[z.ID] = z.Name
		}
	}
	now := time.Now()
	for _, r := range recs {
		fmt.Fprintf(g.stdout, "%s — %s\n", auditWhen(r.Time, now), auditSentence(r, names))
	}
	fmt.Fprintln(g.stdout, "Détails (requête, réponse, empreintes) : vigie audit --json")
	return nil
}

// shorten cuts s to n runes, marking the cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// brokenFrench says why a record fails the check.
var brokenFrench = map[string]string{
	"edited":     "a été modifié",
	"missing":    "a été supprimé",
	"unreadable": "est illisible",
}

// auditPurgedLine says which records retention purged before the ones
// checked ("" if none was).
func auditPurgedLine(c apitype.AuditCheck) string {
	if c.PurgedThrough.IsZero() || c.From < 2 {
		return ""
	}
	when := c.PurgedThrough.Local().Format("02/01/2006 à 15:04")
	if c.From == 2 {
		return fmt.Sprintf("L'enregistrement n°1, du %s, a été purgé par la rétention ([retention] months) ; la vérification part du n°2.", when)
	}
	return fmt.Sprintf("Les enregistrements n°1 à n°%d, jusqu'au %s, ont été purgés par la rétention ([retention] months) ; la vérification part du n°%d.",
		c.From-1, when, c.From)
}

func runAuditVerify(ctx context.Context, asJSON bool, g *globalOptions) error {
	c, err := g.client().VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		if err := printJSON(g.stdout, c); err != nil {
			return err
		}
	} else if c.OK {
		fmt.Fprintf(g.stdout, "journal intègre : %s\n", count(c.Records, "enregistrement", "enregistrements"))
	} else {
		why := brokenFrench[c.Reason]
		if why == "" {
			why = "ne correspond plus (" + c.Reason + ")"
		}
		fmt.Fprintf(g.stdout, "journal altéré : l'enregistrement n°%d %s\n", c.Broken, why)
	}
	if !asJSON {
		if line := auditPurgedLine(c); line != "" {
			fmt.Fprintln(g.stdout, line)
		}
	}
	if !c.OK {
		return errReported
	}
	return nil
}
