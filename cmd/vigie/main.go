// Command vigie is the Vigie SMS alert gateway: the daemon (`vigie serve`),
// the operator's CLI (a thin client of the daemon's socket), the simulated
// modem and the demo.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"vigie/gateway/apitype"
	"vigie/gateway/client"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes scripts rely on (SPEC §11).
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitUnreachable = 3
	exitPermission  = 4
)

const defaultSocket = "/run/vigie/vigie.sock"

// globalOptions are the flags every command shares.
type globalOptions struct {
	socket string
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader
	// stdinTTY and stdoutTTY say whether stdin and stdout are terminals
	// (main sets them; tests choose): a guided form is asked on a terminal
	// only, and a terminal gets redrawn screens instead of a log.
	stdinTTY, stdoutTTY bool
}

func (g *globalOptions) client() *client.Client { return client.New(g.socket) }

// usageError marks a mistake in how the command was called (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func newRootCommand(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:           "vigie",
		Short:         "Passerelle d'alertes SMS Vigilance commerce",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	socket := os.Getenv(apitype.SocketEnv)
	if socket == "" {
		socket = defaultSocket
	}
	root.PersistentFlags().StringVar(&g.socket, "socket", socket, "socket du démon (variable "+apitype.SocketEnv+")")
	root.SetFlagErrorFunc(flagError)
	// Every human output, errors included, is made inert here once, so no
	// command can print an outside text raw (inert.go).
	g.stdout, g.stderr = newInertWriter(g.stdout), newInertWriter(g.stderr)
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	root.SetIn(g.stdin)
	root.AddCommand(
		newServeCommand(g),
		newAlertCommand(g),
		newSubscribersCommand(g),
		newStatusCommand(g),
		newInboxCommand(g),
		newZonesCommand(g),
		newConfigCommand(g),
		newBackupCommand(g),
		newDemoCommand(g),
		newSimCommand(g),
		newModemCommand(g),
		newAuditCommand(g),
		newRapportCommand(g),
		newCompletionCommand(), newGendocsCommand(),
	)
	frenchHelp(root)
	frenchDocs(root, g)
	return root
}

// frenchHelp makes every group command ("vigie alert", "vigie", …) refuse an
// unknown subcommand with a usage error (exit 2) instead of printing its help
// and exiting 0 — a script typing `vigie alert sned` must not believe it
// sent — and gives every command French help and usage texts.
func frenchHelp(cmd *cobra.Command) {
	cmd.SetUsageTemplate(usageTemplate)
	cmd.SetHelpTemplate(helpTemplate)
	cmd.Flags().BoolP("help", "h", false, "cette aide")
	if cmd.HasSubCommands() && cmd.Run == nil && cmd.RunE == nil {
		cmd.Args = cobra.ArbitraryArgs
		cmd.RunE = func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(c, args[0])
			}
			return c.Help()
		}
	}
	for _, sub := range cmd.Commands() {
		frenchHelp(sub)
	}
}

// exactArgs, minArgs, maxArgs: cobra's checks with French usage errors
// that send to the command's own help.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return seeHelp{fmt.Errorf("« %s » attend %s, %s", cmd.CommandPath(), count(n, "argument", "arguments"), count(len(args), "donné", "donnés")), cmd.CommandPath()}
		}
		return nil
	}
}

func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return seeHelp{fmt.Errorf("« %s » attend au moins %s, %s", cmd.CommandPath(), count(n, "argument", "arguments"), count(len(args), "donné", "donnés")), cmd.CommandPath()}
		}
		return nil
	}
}

func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return seeHelp{fmt.Errorf("« %s » attend au plus %s, %s", cmd.CommandPath(), count(n, "argument", "arguments"), count(len(args), "donné", "donnés")), cmd.CommandPath()}
		}
		return nil
	}
}

const usageTemplate = `Utilisation :{{if and .Runnable (not .HasAvailableSubCommands)}}
  {{frenchUseLine .}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} COMMANDE{{end}}{{if gt (len .Aliases) 0}}

Alias :
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

Exemples :
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

Commandes :{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Options :
{{frenchFlags .LocalFlags}}{{end}}{{if .HasAvailableInheritedFlags}}

Options communes :
{{frenchFlags .InheritedFlags}}{{end}}{{if .HasAvailableSubCommands}}

« {{.CommandPath}} COMMANDE --help » pour l'aide d'une commande.{{end}}
`

const helpTemplate = `{{with (or .Long .Short)}}{{. | trimTrailingWhitespaces}}

{{end}}{{if or .Runnable .HasSubCommands}}{{.UsageString}}{{end}}`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	g := &globalOptions{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin,
		stdinTTY: term.IsTerminal(int(os.Stdin.Fd())), stdoutTTY: term.IsTerminal(int(os.Stdout.Fd()))}
	err := newRootCommand(g).ExecuteContext(ctx)
	stop()
	os.Exit(report(g.stderr, err))
}

// report prints err in French for the operator and maps it to an exit code.
// It is the one place errors of the CLI are handled.
func report(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	var ue usageError
	var sh seeHelp
	var api *apitype.UserError
	var check checkCode
	switch {
	case errors.As(err, &check):
		return int(check) // the line is already written
	case errors.As(err, &sh):
		fmt.Fprintf(w, "vigie : %v\n(voir %s --help)\n", err, sh.path)
		return exitUsage
	case errors.As(err, &ue):
		fmt.Fprintf(w, "vigie : %v\n(voir vigie --help)\n", err)
		return exitUsage
	case errors.Is(err, errReported):
		return exitError
	case errors.Is(err, client.ErrUnreachable):
		// The sentinel's words would repeat the sentence's.
		why := strings.TrimSuffix(err.Error(), " : "+client.ErrUnreachable.Error())
		fmt.Fprintf(w, "vigie : le démon ne répond pas (%s). Est-il démarré ? (systemctl status vigie ; la cause d'un arrêt : journalctl -u vigie -e)\n", why)
		return exitUnreachable
	case errors.Is(err, client.ErrPermission):
		fmt.Fprintf(w, "vigie : accès refusé : %v\n", err)
		return exitPermission
	case errors.As(err, &api):
		fmt.Fprintf(w, "vigie : %s\n", api.Message)
		return exitError
	}
	fmt.Fprintf(w, "vigie : erreur : %v\n", err)
	return exitError
}
