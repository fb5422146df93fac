package main

// Documentation that ships with the package: the man pages and the shell
// completion scripts are generated from the command tree itself, so they
// never drift from the flags. `make man` and `make completions` run the
// hidden `vigie gendocs`; `vigie completion SHELL` prints one script.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// completionScripts names the file `vigie gendocs --completions` writes for
// each shell; systemd/nfpm.yaml installs them where each shell looks.
var completionScripts = []struct{ shell, file string }{
	{"bash", "vigie.bash"},
	{"zsh", "vigie.zsh"},
	{"fish", "vigie.fish"},
}

// gendocsOptions are the output directories of `vigie gendocs`.
type gendocsOptions struct {
	man         string
	completions string
}

func newGendocsCommand() *cobra.Command {
	var o gendocsOptions
	cmd := &cobra.Command{
		Use:    "gendocs",
		Short:  "Écrit les pages de manuel et les scripts d'autocomplétion (empaquetage)",
		Hidden: true,
		Args:   exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.man == "" && o.completions == "" {
				return usageError{errors.New("indiquer --man DIR, --completions DIR ou les deux")}
			}
			return runGendocs(cmd.Root(), o)
		},
	}
	cmd.Flags().StringVar(&o.man, "man", "", "répertoire des pages de manuel (sections 1 et 5)")
	cmd.Flags().StringVar(&o.completions, "completions", "", "répertoire des scripts d'autocomplétion (bash, zsh, fish)")
	return cmd
}

// runGendocs writes one man page per visible command and vigie.toml(5) into
// o.man (man.go), and one completion script per shell into o.completions.
func runGendocs(root *cobra.Command, o gendocsOptions) error {
	if o.man != "" {
		if err := os.MkdirAll(o.man, 0o755); err != nil {
			return fmt.Errorf("gendocs: %w", err)
		}
		// The pages show the packaged default, not the builder's VIGIE_SOCKET.
		if f := root.PersistentFlags().Lookup("socket"); f != nil {
			f.DefValue = defaultSocket
		}
		if err := writeManTree(root, o.man); err != nil {
			return err
		}
	}
	if o.completions != "" {
		if err := os.MkdirAll(o.completions, 0o755); err != nil {
			return fmt.Errorf("gendocs: %w", err)
		}
		for _, s := range completionScripts {
			if err := writeCompletionFile(root, s.shell, filepath.Join(o.completions, s.file)); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeCompletionFile(root *cobra.Command, shell, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("gendocs: %w", err)
	}
	if err := writeCompletion(root, shell, true, f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("gendocs: %w", err)
	}
	return nil
}

// writeCompletion writes the completion script of shell for the command
// tree under root, with or without the commands' descriptions.
func writeCompletion(root *cobra.Command, shell string, descriptions bool, w io.Writer) error {
	var err error
	switch shell {
	case "bash":
		err = root.GenBashCompletionV2(w, descriptions)
	case "zsh":
		if descriptions {
			err = root.GenZshCompletion(w)
		} else {
			err = root.GenZshCompletionNoDesc(w)
		}
	case "fish":
		err = root.GenFishCompletion(w, descriptions)
	case "powershell":
		if descriptions {
			err = root.GenPowerShellCompletionWithDesc(w)
		} else {
			err = root.GenPowerShellCompletion(w)
		}
	default:
		return fmt.Errorf("shell inconnu « %s » (bash, zsh, fish ou powershell)", shell)
	}
	if err != nil {
		return fmt.Errorf("script d'autocomplétion %s : %w", shell, err)
	}
	return nil
}

// completionHelp is how to load each shell's script by hand; the .deb
// installs them already.
var completionHelp = map[string]string{
	"bash": `Écrit le script d'autocomplétion de vigie pour bash.

Il demande le paquet bash-completion, que le paquet Debian de Vigie
recommande ; le paquet de Vigie installe déjà ce script. Pour l'essayer
dans le shell courant :

    source <(vigie completion bash)

Pour l'installer à la main :

    vigie completion bash > /etc/bash_completion.d/vigie
`,
	"zsh": `Écrit le script d'autocomplétion de vigie pour zsh.

Le paquet Debian de Vigie l'installe déjà. Pour l'essayer dans le shell
courant (compinit doit avoir été chargé) :

    source <(vigie completion zsh)

Pour l'installer à la main :

    vigie completion zsh > "${fpath[1]}/_vigie"
`,
	"fish": `Écrit le script d'autocomplétion de vigie pour fish.

Le paquet Debian de Vigie l'installe déjà. Pour l'essayer dans le shell
courant :

    vigie completion fish | source

Pour l'installer à la main :

    vigie completion fish > ~/.config/fish/completions/vigie.fish
`,
	"powershell": `Écrit le script d'autocomplétion de vigie pour PowerShell.

Pour l'essayer dans le shell courant :

    vigie completion powershell | Out-String | Invoke-Expression
`,
}

// newCompletionCommand replaces cobra's default `completion` command (cobra
// adds its own, in English, only when none exists) with the same generators
// and French help.
func newCompletionCommand() *cobra.Command {
	var noDesc bool
	cmd := &cobra.Command{
		Use:   "completion",
		Short: "Script d'autocomplétion du shell (bash, zsh, fish, powershell)",
		Long: `Écrit sur la sortie standard le script d'autocomplétion de vigie pour le
shell indiqué. Voir l'aide de chaque sous-commande pour l'installer.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE:              func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.PersistentFlags().BoolVar(&noDesc, "no-descriptions", false, "sans la description des commandes")
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		cmd.AddCommand(&cobra.Command{
			Use:               shell,
			Short:             "Script d'autocomplétion pour " + shell,
			Long:              completionHelp[shell],
			Args:              exactArgs(0),
			ValidArgsFunction: cobra.NoFileCompletions,
			RunE: func(c *cobra.Command, _ []string) error {
				return writeCompletion(c.Root(), shell, !noDesc, raw(c.OutOrStdout()))
			},
		})
	}
	return cmd
}
