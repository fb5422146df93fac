package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"vigie/gateway/apitype"
)

type backupOptions struct {
	json bool
}

func newBackupCommand(g *globalOptions) *cobra.Command {
	var opts backupOptions
	cmd := &cobra.Command{
		Use:     "backup FICHIER",
		Aliases: []string{"sauvegarde"},
		Short:   "Copier la base de données pendant que le démon tourne",
		Long: "Écrit dans FICHIER (mode 0600) une copie cohérente de la base, prise par le démon\n" +
			"sans l'arrêter. La copie est compactée : ce qui a été effacé (subscribers remove --erase)\n" +
			"n'y est plus. Pour restaurer : arrêter vigie, remplacer /var/lib/vigie/vigie.db\n" +
			"par la copie (propriétaire vigie), redémarrer.\n\n" +
			"La clé de la liste d'opposition ([store] key_file, /var/lib/vigie/suppression.key)\n" +
			"n'est pas dans la copie : la sauvegarder une fois, à part, et la restaurer avec la base ;\n" +
			"sans elle, vigie refuse une base qui contient des numéros effacés.",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBackup(cmd.Context(), opts, g, args[0])
		},
	}
	cmd.Flags().BoolVar(&opts.json, "json", false, "sortie JSON")
	return cmd
}

func runBackup(ctx context.Context, opts backupOptions, g *globalOptions, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("chemin %s : %w", path, err)
	}
	n, err := g.client().BackupFile(ctx, abs)
	if err != nil {
		return err
	}
	if opts.json {
		return printJSON(g.stdout, apitype.Backup{Path: abs, Bytes: n})
	}
	fmt.Fprintf(g.stdout, "Copie de la base écrite dans %s (%s).\n", abs, count(int(n), "octet", "octets"))
	return nil
}
