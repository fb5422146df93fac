package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"vigie/gateway/fold"
	"vigie/gateway/suggest"
)

// seeHelp is a usage error that knows which command's help answers it:
// report names that help instead of the general one.
type seeHelp struct {
	err  error
	path string // "vigie alert"
}

func (e seeHelp) Error() string { return e.err.Error() }
func (e seeHelp) Unwrap() error { return e.err }

// unknownCommand refuses word as a subcommand of group, suggesting the
// subcommand it is a likely typo of: « commande inconnue « alret » pour
// « vigie ». Vouliez-vous dire « alert » ? ».
func unknownCommand(group *cobra.Command, word string) error {
	kind := "sous-commande"
	if !group.HasParent() {
		kind = "commande"
	}
	msg := fmt.Sprintf("%s inconnue « %s » pour « %s »", kind, word, group.CommandPath())
	if s, ok := nearestCommand(group, word); ok {
		msg += fmt.Sprintf(". Vouliez-vous dire « %s » ?", s)
	}
	return seeHelp{errors.New(msg), group.CommandPath()}
}

// nearestCommand returns the name or alias of the subcommand of group that
// word is a likely typo of, in the form nearest to what was typed (an
// operator who types French gets the French alias).
func nearestCommand(group *cobra.Command, word string) (string, bool) {
	var subs []*cobra.Command
	for _, c := range group.Commands() {
		if c.IsAvailableCommand() {
			subs = append(subs, c)
		}
	}
	names := func(i int) []string { return append([]string{subs[i].Name()}, subs[i].Aliases...) }
	i, ok := suggest.NearestOf(word, len(subs), names)
	if !ok {
		return "", false
	}
	best, bestD := "", -1
	for _, n := range names(i) {
		if d := suggest.Distance(fold.Key(word), fold.Key(n)); bestD < 0 || d < bestD {
			best, bestD = n, d
		}
	}
	return best, true
}

// flagError words pflag's error in French for cmd, with what to do. On a
// group command ("vigie alert") an option comes after a misspelt
// subcommand, so the subcommand is what is wrong: `vigie alert sned --zone
// macon x` is an unknown « sned », not an unknown --zone. An unknown option
// of a command suggests the option it is a likely typo of.
func flagError(cmd *cobra.Command, err error) error {
	if cmd.HasSubCommands() {
		if args := cmd.Flags().Args(); len(args) > 0 {
			return unknownCommand(cmd, args[0])
		}
		// `vigie alert --zone macon …`: the command was forgotten.
		if name, ok := strings.CutPrefix(err.Error(), "unknown flag: --"); ok {
			if owners := flagOwners(cmd, name); len(owners) > 0 {
				return seeHelp{fmt.Errorf("option « --%s » sans commande : « %s » attend d'abord une commande, par exemple %s",
					name, cmd.CommandPath(), strings.Join(owners, " ou ")), cmd.CommandPath()}
			}
		}
	}
	return seeHelp{frenchFlagError(cmd.Flags(), err), cmd.CommandPath()}
}

// flagOwners lists, as « vigie alert send --zone … », the first subcommands
// of group that take the option --name.
func flagOwners(group *cobra.Command, name string) []string {
	var out []string
	for _, c := range group.Commands() {
		if c.IsAvailableCommand() && c.Flags().Lookup(name) != nil && len(out) < 2 {
			out = append(out, fmt.Sprintf("« %s --%s … »", c.CommandPath(), name))
		}
	}
	return out
}

var (
	unknownShort = regexp.MustCompile(`^unknown shorthand flag: '(.+)' in (-.*)$`)
	needsShort   = regexp.MustCompile(`^flag needs an argument: '(.+)' in (-.*)$`)
	badValue     = regexp.MustCompile(`^invalid argument "(.*)" for "(.+)" flag: `)
)

// frenchFlagError says in French what pflag found wrong with the options
// of flags, and what would have been right.
func frenchFlagError(flags *pflag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		out := fmt.Sprintf("option inconnue « --%s »", name)
		var names []string
		flags.VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				names = append(names, f.Name)
			}
		})
		if s, ok := suggest.Nearest(name, names); ok {
			out += fmt.Sprintf(". Vouliez-vous dire « --%s » ?", s)
		}
		return errors.New(out)
	}
	if m := unknownShort.FindStringSubmatch(msg); m != nil {
		if "-"+m[1] == m[2] {
			return fmt.Errorf("option courte inconnue « -%s »", m[1])
		}
		return fmt.Errorf("option courte inconnue « -%s » (dans « %s »)", m[1], m[2])
	}
	if m := needsShort.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("l'option « -%s » demande une valeur", m[1])
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return fmt.Errorf("l'option « %s » demande une valeur", name)
	}
	if m := badValue.FindStringSubmatch(msg); m != nil {
		out := fmt.Sprintf("valeur invalide « %s » pour « %s »", m[1], m[2])
		long := m[2] // "--interval" or "-i, --interval"
		if i := strings.LastIndex(long, "--"); i >= 0 {
			long = long[i+2:]
		}
		if f := flags.Lookup(long); f != nil {
			if want, ok := flagValueHints[f.Value.Type()]; ok {
				out += " : il faut " + want
			}
		}
		return errors.New(out)
	}
	return err
}

// flagValueHints say what a value of each pflag type looks like.
var flagValueHints = map[string]string{
	"duration":    "une durée comme « 30s », « 5m » ou « 1h30m »",
	"int":         "un nombre entier",
	"int64":       "un nombre entier",
	"uint":        "un nombre entier positif",
	"uint64":      "un nombre entier positif",
	"bool":        "« true » ou « false »",
	"float64":     "un nombre",
	"intSlice":    "des nombres entiers séparés par des virgules",
	"stringSlice": "des mots séparés par des virgules",
}
