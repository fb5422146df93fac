package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"vigie/gateway/apitype"
	"vigie/gateway/csvimport"
	"vigie/gateway/french"
)

func newSubscribersCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "subscribers",
		Aliases: []string{"abonnes", "abonnés"},
		Short:   "Gérer les commerçants abonnés",
	}
	cmd.AddCommand(
		newSubscribersListCommand(g),
		newSubscribersShowCommand(g),
		newSubscribersAddCommand(g),
		newSubscribersApproveCommand(g),
		newSubscribersRemoveCommand(g),
		newSubscribersImportCommand(g),
		newSubscribersExportCommand(g),
	)
	return cmd
}

// statusNames, sourceNames: the French words of the stable API values.
var (
	statusNames = map[string]string{"active": "actif", "pending": "en attente", "stopped": "arrêté"}
	sourceNames = map[string]string{"sms": "SMS", "operator": "opérateur", "import": "import"}
)

func frenchOr(names map[string]string, v string) string {
	if fr, ok := names[v]; ok {
		return fr
	}
	return v
}

type subscribersListOptions struct {
	filter apitype.SubscriberFilter
	json   bool
}

func newSubscribersListCommand(g *globalOptions) *cobra.Command {
	var opts subscribersListOptions
	cmd := &cobra.Command{
		Use:   "list [--zone ZONE] [--trade MÉTIER] [--status active|pending|stopped]",
		Short: "Lister les abonnés",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSubscribersList(cmd.Context(), opts, g)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.filter.Zone, "zone", "", "seulement cette zone (et ses sous-zones)")
	f.StringVar(&opts.filter.Trade, "trade", "", "seulement ce métier")
	f.StringVar(&opts.filter.Status, "status", "", "seulement ce statut : active, pending ou stopped")
	f.BoolVar(&opts.json, "json", false, "sortie JSON")
	return cmd
}

func runSubscribersList(ctx context.Context, opts subscribersListOptions, g *globalOptions) error {
	switch opts.filter.Status {
	case "", "active", "pending", "stopped":
	default:
		return usageError{fmt.Errorf("--status %q : attendu active, pending ou stopped", opts.filter.Status)}
	}
	subs, err := g.client().Subscribers(ctx, opts.filter)
	if err != nil {
		return err
	}
	if opts.json {
		return printJSON(g.stdout, subs)
	}
	if len(subs) == 0 {
		fmt.Fprintln(g.stdout, "Aucun abonné.")
		return nil
	}
	// Operators manage numbers: shown in full (the masking is for logs).
	fmt.Fprintf(g.stdout, "%-16s %-10s %-16s %-24s %s\n", "NUMÉRO", "STATUT", "MÉTIER", "COMMERCE", "ZONES")
	for _, s := range subs {
		zones := strings.Join(s.Zones, ", ")
		if s.Pending != nil {
			zones += fmt.Sprintf(" (demande : %s)", s.Pending.Zone)
		}
		fmt.Fprintf(g.stdout, "%-16s %-10s %-16s %-24s %s\n", s.Phone, frenchOr(statusNames, s.Status), dash(s.Trade), dash(inert(s.Name)), zones)
	}
	fmt.Fprintf(g.stdout, "%s.\n", count(len(subs), "abonné", "abonnés"))
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newSubscribersShowCommand(g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show NUMÉRO",
		Short: "Tout ce que Vigie sait d'un numéro",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := g.client().Subscriber(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(g.stdout, d)
			}
			printSubscriberDetail(g.stdout, d)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "sortie JSON")
	return cmd
}

func printSubscriberDetail(w io.Writer, d apitype.SubscriberDetail) {
	fmt.Fprintf(w, "Numéro :          %s\n", d.Phone)
	if d.Status == "" {
		fmt.Fprintln(w, "Abonnement :      aucun")
	} else {
		fmt.Fprintf(w, "Statut :          %s\n", frenchOr(statusNames, d.Status))
		fmt.Fprintf(w, "Zones :           %s\n", dash(strings.Join(d.Zones, ", ")))
		fmt.Fprintf(w, "Métier :          %s\n", dash(d.Trade))
		fmt.Fprintf(w, "Nom :             %s\n", dash(inert(d.Name)))
		fmt.Fprintf(w, "Origine :         %s\n", frenchOr(sourceNames, d.Source))
		fmt.Fprintf(w, "Inscrit le :      %s\n", d.CreatedAt.Local().Format("02/01/2006 15:04"))
		fmt.Fprintf(w, "Modifié le :      %s\n", d.UpdatedAt.Local().Format("02/01/2006 15:04"))
	}
	if p := d.Pending; p != nil {
		what := "attend la réponse OUI <code> du commerçant"
		switch {
		case p.Policy == "approval":
			what = "attend votre validation (vigie subscribers approve " + d.Phone + ")"
		case !p.VoidedAt.IsZero():
			what = fmt.Sprintf("annulée le %s après %s : aucun code ne l'active plus "+
				"(le commerçant renvoie INSCRIPTION le lendemain, ou vous validez en personne : vigie subscribers approve %s)",
				p.VoidedAt.Local().Format("02/01/2006 15:04"), count(p.WrongCodes, "code erroné", "codes erronés"), d.Phone)
		case p.WrongCodes > 0:
			what += " (" + count(p.WrongCodes, "code erroné", "codes erronés") + " déjà)"
		}
		fmt.Fprintf(w, "Demande :         zone %s %s, reçue le %s : %s\n", p.Zone, dash(p.Trade), p.At.Local().Format("02/01/2006 15:04"), what)
	}
	if d.Suppressed {
		fmt.Fprintln(w, "Opposition :      oui (a envoyé STOP ou a été effacé) : ne reçoit plus rien")
	} else {
		fmt.Fprintln(w, "Opposition :      non")
	}
	fmt.Fprintf(w, "Alertes reçues :  %d\n", d.AlertsReceived)
}

type subscribersAddOptions struct {
	zones []string
	trade string
	name  string
	force bool
	json  bool
}

func newSubscribersAddCommand(g *globalOptions) *cobra.Command {
	var opts subscribersAddOptions
	cmd := &cobra.Command{
		Use:   "add NUMÉRO --zone ZONE… [--trade MÉTIER] [--nom NOM] [--force]",
		Short: "Inscrire un commerçant (à sa demande)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSubscribersAdd(cmd.Context(), opts, args[0], g)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.zones, "zone", nil, "zone (répétable) : identifiant, nom ou alias")
	f.StringVar(&opts.trade, "trade", "", "métier")
	f.StringVar(&opts.name, "nom", "", "nom du commerce (enseigne), montré avec ses réponses aux alertes")
	f.StringVar(&opts.name, "name", "", "nom du commerce (comme --nom)")
	f.BoolVar(&opts.force, "force", false, "inscrire même un numéro qui a envoyé STOP (il l'a redemandé en personne)")
	f.BoolVar(&opts.json, "json", false, "sortie JSON")
	return cmd
}

func runSubscribersAdd(ctx context.Context, opts subscribersAddOptions, number string, g *globalOptions) error {
	if len(opts.zones) == 0 {
		return usageError{fmt.Errorf("indiquez au moins une zone (--zone)")}
	}
	res, err := g.client().AddSubscriber(ctx, apitype.AddSubscriberRequest{Phone: number, Zones: opts.zones, Trade: opts.trade, Name: opts.name, Force: opts.force})
	if err != nil {
		return err
	}
	if opts.json {
		return printJSON(g.stdout, res)
	}
	s := res.Subscriber
	switch res.Outcome {
	case apitype.OutcomeAdded:
		fmt.Fprintf(g.stdout, "%s inscrit : %s.\n", s.Phone, zonesPhrase(s.Zones))
	case apitype.OutcomeUpdated:
		fmt.Fprintf(g.stdout, "%s mis à jour : %s.\n", s.Phone, zonesPhrase(s.Zones))
	default:
		fmt.Fprintf(g.stdout, "%s était déjà inscrit ainsi : rien à changer.\n", s.Phone)
	}
	return nil
}

func newSubscribersApproveCommand(g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "approve NUMÉRO",
		Short: "Valider une demande d'inscription en attente",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.client().ApproveSubscriber(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(g.stdout, s)
			}
			fmt.Fprintf(g.stdout, "%s inscrit : %s. Le commerçant reçoit un SMS de confirmation.\n", s.Phone, zonesPhrase(s.Zones))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "sortie JSON")
	return cmd
}

func newSubscribersRemoveCommand(g *globalOptions) *cobra.Command {
	var erase, asJSON, yes bool
	cmd := &cobra.Command{
		Use:   "remove NUMÉRO [--erase [--yes]]",
		Short: "Désinscrire un commerçant ; --erase efface aussi ses données",
		Long: "Désinscrit le numéro (il ne reçoit plus d'alertes, un import pourra le réinscrire).\n\n" +
			"Avec --erase, ses données personnelles sont effacées (RGPD) : abonnement, zones et métier, SMS\n" +
			"reçus (expéditeur et texte), numéro dans l'historique d'envoi (remplacé par « [effacé] »),\n" +
			"compteurs ; ses messages en attente sont annulés. Le fichier de la base est aussitôt réécrit\n" +
			"(compacté) : aucune copie du numéro n'y reste, ni dans les sauvegardes prises après (vigie backup,\n" +
			"copie nocturne). Seule reste en liste d'opposition une empreinte du numéro, calculée avec la clé\n" +
			"de [store] key_file, gardée hors de la base : aucun import ne pourra le réinscrire ; seule une\n" +
			"inscription par SMS ou « add --force » l'en retire.\n\n" +
			"Les sauvegardes prises avant l'effacement gardent le numéro tant qu'elles existent : une copie\n" +
			"nocturne s'efface d'elle-même quand [backup] keep copies plus récentes l'ont remplacée (7 jours par\n" +
			"défaut) ; les copies faites à la main sont à supprimer à la main. Le journal d'audit n'en garde\n" +
			"que l'indicatif et les deux derniers chiffres.",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if erase {
				ok, err := confirmIrreversible(cmd.Context(), g, yes, asJSON,
					fmt.Sprintf("Effacer définitivement les données de %s ? Abonnement, SMS reçus et numéro dans l'historique seront effacés sans retour possible.", inert(args[0])),
					fmt.Sprintf("vigie subscribers remove %s --erase --yes", inert(args[0])))
				if err != nil {
					return err
				}
				if !ok {
					fmt.Fprintln(g.stdout, "Rien n'a été effacé.")
					return nil
				}
			}
			res, err := g.client().RemoveSubscriber(cmd.Context(), args[0], erase)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(g.stdout, res)
			}
			if res.Erased {
				fmt.Fprintf(g.stdout, "%s effacé : %s et %s anonymisés, %s.\n"+
					"Il reste en liste d'opposition (empreinte seulement) : seule une inscription par SMS ou `add --force` l'en retire.\n",
					res.Phone, count(res.Inbound, "SMS reçu", "SMS reçus"), count(res.Messages, "message envoyé", "messages envoyés"),
					count(res.Cancelled, "message en attente annulé", "messages en attente annulés"))
				return nil
			}
			fmt.Fprintf(g.stdout, "%s désinscrit (%s).\n", res.Phone,
				count(res.Cancelled, "message d'alerte en attente annulé", "messages d'alerte en attente annulés"))
			return nil
		},
	}
	cmd.Flags().BoolVar(&erase, "erase", false, "effacer les données personnelles du numéro (RGPD)")
	cmd.Flags().BoolVar(&yes, "yes", false, "avec --erase : ne pas demander de confirmation")
	cmd.Flags().BoolVar(&asJSON, "json", false, "sortie JSON")
	return cmd
}

type subscribersImportOptions struct {
	dryRun       bool
	replaceZones bool
	zone         string
	json         bool
}

func newSubscribersImportCommand(g *globalOptions) *cobra.Command {
	var opts subscribersImportOptions
	cmd := &cobra.Command{
		Use:   "import FICHIER [--dry-run] [--zone ZONE] [--replace-zones]",
		Short: "Importer le tableau des adhérents (CSV ; ou , UTF-8 ou Windows-1252)",
		Long: "Importe un fichier CSV enregistré par un tableur : séparateur « ; » ou « , », UTF-8 (avec ou sans BOM)\n" +
			"ou Windows-1252, une ligne d'en-tête (téléphone/portable/mobile, zone/secteur/quartier, métier/activité,\n" +
			"nom/enseigne/commerce : le nom du commerce, montré avec ses réponses aux alertes).\n" +
			"Les zones du fichier s'ajoutent à celles qu'un abonné a déjà ; avec --replace-zones, elles les remplacent\n" +
			"(un numéro sur plusieurs lignes reçoit les zones de toutes ses lignes).\n" +
			"Les numéros en opposition (STOP) ne sont jamais réinscrits. « - » lit l'entrée standard.",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSubscribersImport(cmd.Context(), opts, args[0], g)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.dryRun, "dry-run", false, "montrer ce que l'import ferait, sans rien changer")
	f.StringVar(&opts.zone, "zone", "", "zone des lignes qui n'en indiquent pas")
	f.BoolVar(&opts.replaceZones, "replace-zones", false, "remplacer les zones des abonnés par celles du fichier (par défaut, elles s'ajoutent)")
	f.BoolVar(&opts.json, "json", false, "sortie JSON")
	return cmd
}

func runSubscribersImport(ctx context.Context, opts subscribersImportOptions, path string, g *globalOptions) error {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(g.stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return fmt.Errorf("lire %s : %w", path, err)
	}
	rep, err := g.client().ImportSubscribers(ctx, apitype.ImportRequest{Data: data, DefaultZone: opts.zone, DryRun: opts.dryRun, ReplaceZones: opts.replaceZones})
	if err != nil {
		return err
	}
	if opts.json {
		return printJSON(g.stdout, rep)
	}
	printImportReport(g.stdout, path, rep)
	return nil
}

var fieldNames = map[string]string{"phone": "téléphone", "zone": "zone", "trade": "métier", "name": "nom du commerce", "": "ignorée"}

var outcomeNames = map[string]string{"added": "ajouté", "updated": "mis à jour", "skipped": "ignoré", "rejected": "rejeté"}

func printImportReport(w io.Writer, path string, rep apitype.ImportReport) {
	sep := rep.Separator
	if sep == "\t" {
		sep = "tabulation"
	}
	fmt.Fprintf(w, "Fichier %s : %s, séparateur « %s ».\n", path, rep.Encoding, sep)
	var cols []string
	for _, c := range rep.Columns {
		cols = append(cols, fmt.Sprintf("%s → %s", c.Name, fieldNames[c.Field]))
	}
	fmt.Fprintf(w, "Colonnes : %s.\n", strings.Join(cols, ", "))
	for _, r := range rep.Rows {
		line := fmt.Sprintf("ligne %-4d %-10s", r.Line, outcomeNames[r.Outcome])
		switch r.Outcome {
		case apitype.OutcomeRejected:
			if r.Column != "" {
				line += fmt.Sprintf(" colonne « %s » : %s", r.Column, r.Message)
			} else {
				line += " " + r.Message
			}
		case apitype.OutcomeSkipped:
			line += fmt.Sprintf(" %s : %s", r.Phone, r.Message)
		default:
			line += fmt.Sprintf(" %s : %s", r.Phone, zonesPhrase(r.Zones))
			if r.Trade != "" {
				line += ", métier " + r.Trade
			}
		}
		fmt.Fprintln(w, line)
	}
	if rep.ReplaceZones {
		fmt.Fprintln(w, "Zones : celles du fichier remplacent celles des abonnés (--replace-zones).")
	} else {
		fmt.Fprintln(w, "Zones : celles du fichier s'ajoutent à celles des abonnés (--replace-zones pour les remplacer).")
	}
	fmt.Fprintf(w, "Bilan : %s, %d mis à jour, %s, %s.\n", count(rep.Added, "ajouté", "ajoutés"), rep.Updated,
		count(rep.Skipped, "ignoré", "ignorés"), count(rep.Rejected, "rejeté", "rejetés"))
	if rep.DryRun {
		fmt.Fprintln(w, "Simulation (--dry-run) : rien n'a été modifié.")
	}
}

func newSubscribersExportCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export [FICHIER]",
		Short: "Exporter les abonnés actifs en CSV (pour un tableur ; réimportable)",
		Args:  maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := ""
			if len(args) == 1 {
				path = args[0]
			}
			return runSubscribersExport(cmd.Context(), path, g)
		},
	}
	return cmd
}

// runSubscribersExport writes the active subscribers as a French
// spreadsheet opens it: `;`, UTF-8 with a BOM (so Excel does not read it as
// Windows-1252), a French header the import reads back. The file holds
// personal data: it is created 0600.
func runSubscribersExport(ctx context.Context, path string, g *globalOptions) error {
	subs, err := g.client().Subscribers(ctx, apitype.SubscriberFilter{Status: apitype.SubscriberActive})
	if err != nil {
		return err
	}
	data, err := exportCSV(subs)
	if err != nil {
		return err
	}
	if path == "" || path == "-" {
		// Exact bytes for a file or a pipe; inert on a terminal, where a
		// person reads the cells.
		out := raw(g.stdout)
		if g.stdoutTTY {
			out = g.stdout
		}
		_, err := out.Write(data)
		return err
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("écrire %s : %w", path, err)
	}
	fmt.Fprintf(g.stderr, "%s dans %s.\n", count(len(subs), "abonné actif exporté", "abonnés actifs exportés"), path)
	return nil
}

func exportCSV(subs []apitype.Subscriber) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("\uFEFF")
	w := csv.NewWriter(&b)
	w.Comma = ';'
	w.UseCRLF = true
	rows := [][]string{{"téléphone", "zones", "métier", "origine", "inscrit le", "nom"}}
	for _, s := range subs {
		rows = append(rows, []string{s.Phone, strings.Join(s.Zones, ", "), s.Trade,
			frenchOr(sourceNames, s.Source), s.CreatedAt.Local().Format("02/01/2006"), csvimport.SafeCell(s.Name)})
	}
	if err := w.WriteAll(rows); err != nil {
		return nil, fmt.Errorf("écriture du CSV : %w", err)
	}
	return b.Bytes(), nil
}

// zonesPhrase names a subscriber's zones with the noun agreeing: « zone
// macon », « zones macon, charnay ».
func zonesPhrase(zones []string) string {
	return french.Plural(len(zones), "zone", "zones") + " " + strings.Join(zones, ", ")
}
