package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"vigie/gateway/reportdoc"
	"vigie/store/atomicfile"
)

type rapportOptions struct {
	from, to string
	zones    []string
	format   string
	output   string
}

// reportFormats are the values of --format.
var reportFormats = []string{"html", "csv", "json"}

func newRapportCommand(g *globalOptions) *cobra.Command {
	var opts rapportOptions
	cmd := &cobra.Command{
		Use:   "rapport",
		Short: "Rapport d'activité d'une période (HTML, CSV ou JSON)",
		Long: "Résume ce que le dispositif a fait sur une période : alertes par mois, par catégorie\n" +
			"et par zone, commerces prévenus et SMS remis, délai jusqu'au dernier SMS face à la\n" +
			"promesse d'une heure, inscriptions et STOP, réponses des témoins, disponibilité des\n" +
			"modems et SMS dépensés face aux plafonds. Seulement des nombres, des zones et des\n" +
			"métiers : aucun numéro de téléphone.\n\n" +
			"Par défaut, les 12 derniers mois (du 1er du mois, il y a 11 mois, à aujourd'hui inclus)\n" +
			"en HTML : une seule page, sans script ni accès au réseau, à ouvrir dans un navigateur\n" +
			"et à imprimer (A4). Le CSV (séparateur « ; », UTF-8) s'ouvre dans Excel ou LibreOffice.\n" +
			"Sans -o, le rapport va sur la sortie standard (le HTML, seulement redirigé vers un fichier).",
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRapport(cmd, opts, g)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.from, "from", "", "premier jour (AAAA-MM-JJ ou JJ/MM/AAAA ; défaut : le 1er du mois, il y a 11 mois)")
	f.StringVar(&opts.to, "to", "", "dernier jour, inclus (AAAA-MM-JJ ou JJ/MM/AAAA ; défaut : aujourd'hui)")
	f.StringSliceVar(&opts.zones, "zone", nil, "seulement cette zone et ses sous-zones (répétable)")
	f.StringVar(&opts.format, "format", "html", "format : html, csv ou json")
	f.StringVarP(&opts.output, "output", "o", "", "écrire le rapport dans ce fichier")
	// --to is a date here, not a phone number as for « alert test ».
	_ = f.SetAnnotation("to", flagArgAnnotation, []string{"DATE"})
	_ = f.SetAnnotation("from", flagArgAnnotation, []string{"DATE"})
	_ = f.SetAnnotation("output", flagArgAnnotation, []string{"FICHIER"})
	return cmd
}

// dayLayouts are the date forms --from and --to accept, local days.
var dayLayouts = []string{time.DateOnly, "02/01/2006"}

func parseDay(flag, text string) (time.Time, error) {
	for _, l := range dayLayouts {
		if t, err := time.ParseInLocation(l, strings.TrimSpace(text), time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageError{fmt.Errorf("date invalide pour --%s : %q (exemples : 2026-03-14, 14/03/2026)", flag, text)}
}

// reportPeriod is the first day and the last day (included) asked for:
// by default the 12 calendar months that end with the current one, the
// current month up to today.
func reportPeriod(opts rapportOptions, now time.Time) (from, last time.Time, err error) {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.Local)
	last = today
	if opts.to != "" {
		if last, err = parseDay("to", opts.to); err != nil {
			return
		}
	}
	from = time.Date(last.Year(), last.Month()-11, 1, 0, 0, 0, 0, time.Local)
	if opts.from != "" {
		if from, err = parseDay("from", opts.from); err != nil {
			return
		}
	}
	if from.After(last) {
		err = usageError{fmt.Errorf("la date de début (%s) est après la date de fin (%s)", reportdoc.Day(from), reportdoc.Day(last))}
	}
	return
}

func runRapport(cmd *cobra.Command, opts rapportOptions, g *globalOptions) error {
	format := strings.ToLower(opts.format)
	if !contains(reportFormats, format) {
		return usageError{fmt.Errorf("format inconnu %s : html, csv ou json", inert(fmt.Sprintf("« %s »", opts.format)))}
	}
	if format == "html" && opts.output == "" && g.stdoutTTY {
		return usageError{errors.New("le rapport HTML est une page à ouvrir dans un navigateur, pas à lire dans le terminal : " +
			"indiquez un fichier (vigie rapport -o rapport.html) ou redirigez la sortie (vigie rapport > rapport.html)")}
	}
	from, last, err := reportPeriod(opts, time.Now())
	if err != nil {
		return err
	}
	// The daemon covers [from, to): the day after the last one asked for.
	// Calendar arithmetic on the date, so that a DST change cannot shift it.
	to := time.Date(last.Year(), last.Month(), last.Day()+1, 0, 0, 0, 0, time.Local)
	rep, err := g.client().Report(cmd.Context(), from, to, opts.zones)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	switch format {
	case "html":
		err = reportdoc.WriteHTML(&b, rep)
	case "csv":
		err = reportdoc.WriteCSV(&b, rep)
	case "json":
		err = printJSON(&b, rep)
	}
	if err != nil {
		return err
	}
	if opts.output == "" {
		switch {
		case format == "json":
			// Through the inert layer: its escapes are JSON's own.
			_, err = g.stdout.Write(b.Bytes())
		case format == "csv" && g.stdoutTTY:
			// Read on a terminal: names from the configuration made
			// inert like any outside text, without the BOM and the CRLF
			// that are for a spreadsheet.
			text := strings.ReplaceAll(strings.TrimPrefix(b.String(), "\ufeff"), "\r\n", "\n")
			_, err = io.WriteString(g.stdout, text)
		default:
			// A file for a program (a browser, a spreadsheet), through a
			// redirection: written exactly.
			_, err = raw(g.stdout).Write(b.Bytes())
		}
		if err != nil {
			return fmt.Errorf("écriture du rapport : %w", err)
		}
		return nil
	}
	path, err := filepath.Abs(opts.output)
	if err != nil {
		return fmt.Errorf("chemin %s : %w", opts.output, err)
	}
	if err := writeFileAtomic(path, b.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Rapport %s %s écrit dans %s (%s).\n", strings.ToUpper(format), reportdoc.Period(rep.From, rep.To), path, count(b.Len(), "octet", "octets"))
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// writeFileAtomic writes data to path whole or not at all
// (atomicfile): a failed run leaves the previous file as it was.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := atomicfile.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("écriture de %s : %w", path, err)
	}
	return nil
}
