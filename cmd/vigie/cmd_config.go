package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"vigie/gateway/config"
	"vigie/gateway/zone"
)

func newConfigCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Vérifier la configuration",
	}
	cmd.AddCommand(newConfigCheckCommand(g))
	return cmd
}

// configCheck is the report of `vigie config check --json`.
type configCheck struct {
	File   string             `json:"file"`
	Valid  bool               `json:"valid"`
	Modems int                `json:"modems"`
	Zones  int                `json:"zones"`
	Trades int                `json:"trades"`
	Errors []configCheckError `json:"errors"`
	// Warnings are what is valid but cannot work; they do not make the
	// file invalid.
	Warnings []configCheckError `json:"warnings"`
}

// configCheckError is one problem, where it is.
type configCheckError struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Key     string `json:"key,omitempty"`
	Message string `json:"message"`
}

func newConfigCheckCommand(g *globalOptions) *cobra.Command {
	var path string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check [--config CHEMIN]",
		Short: "Valider le fichier de configuration (sans le démon)",
		Args:  exactArgs(0),
		RunE: func(*cobra.Command, []string) error {
			rep := checkConfig(path)
			if asJSON {
				if err := printJSON(g.stdout, rep); err != nil {
					return err
				}
			} else {
				printConfigCheck(g.stdout, g.stderr, rep)
			}
			if !rep.Valid {
				return errReported
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "config", defaultConfig, "fichier de configuration")
	cmd.Flags().BoolVar(&asJSON, "json", false, "sortie JSON")
	return cmd
}

// checkConfig loads the file as `vigie serve` would, zones and trades
// resolved too, and lists every problem.
func checkConfig(path string) configCheck {
	rep := configCheck{File: path, Errors: []configCheckError{}, Warnings: []configCheckError{}}
	cfg, warns, err := config.Check(path)
	for _, w := range warns {
		rep.Warnings = append(rep.Warnings, configCheckError{File: w.File, Line: w.Line, Key: w.Key, Message: w.String()})
	}
	// In file order; a warning about what is missing (no line) last.
	slices.SortStableFunc(rep.Warnings, func(a, b configCheckError) int { return cmp.Compare(lineOrLast(a.Line), lineOrLast(b.Line)) })
	if err == nil {
		// What gateway.New refuses at start-up: ambiguous words, cycles.
		_, zerr := zone.New(cfg.Zones)
		_, terr := zone.NewTrades(cfg.Trades)
		err = errors.Join(zerr, terr)
	}
	for _, e := range flatten(err) {
		var ce *config.Error
		if errors.As(e, &ce) {
			rep.Errors = append(rep.Errors, configCheckError{File: ce.File, Line: ce.Line, Key: ce.Key, Message: ce.Error()})
		} else {
			rep.Errors = append(rep.Errors, configCheckError{File: path, Message: e.Error()})
		}
	}
	// In file order, the order the operator fixes them in.
	slices.SortStableFunc(rep.Errors, func(a, b configCheckError) int { return cmp.Compare(a.Line, b.Line) })
	rep.Valid = len(rep.Errors) == 0
	if cfg != nil {
		rep.Modems, rep.Zones, rep.Trades = len(cfg.Modems), len(cfg.Zones), len(cfg.Trades)
	}
	return rep
}

// flatten lists the errors joined in err (errors.Join), depth first.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

func printConfigCheck(out, errOut io.Writer, rep configCheck) {
	if rep.Valid {
		fmt.Fprintf(out, "Configuration valide : %s, %s, %s (%s)\n", count(rep.Modems, "modem", "modems"), count(rep.Zones, "zone", "zones"), count(rep.Trades, "métier", "métiers"), rep.File)
		printConfigWarnings(out, rep.Warnings)
		return
	}
	fmt.Fprintf(errOut, "Configuration invalide : %s\n", count(len(rep.Errors), "erreur", "erreurs"))
	for _, e := range rep.Errors {
		fmt.Fprintf(errOut, "  %s\n", e.Message)
	}
	printConfigWarnings(errOut, rep.Warnings)
}

// printConfigWarnings says what is valid but will not work, after the
// verdict: the file is usable, these settings are not what was meant.
func printConfigWarnings(w io.Writer, warns []configCheckError) {
	for _, e := range warns {
		fmt.Fprintf(w, "  attention : %s\n", e.Message)
	}
}

// lineOrLast sorts line 0 (unknown: something missing) after every line.
func lineOrLast(line int) int {
	if line == 0 {
		return int(^uint(0) >> 1)
	}
	return line
}
