package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"vigie/modem/sim"
)

type simOptions struct {
	link        string
	delay       time.Duration
	number      string
	personality string
	clock       time.Duration
}

func newSimCommand(g *globalOptions) *cobra.Command {
	var opts simOptions
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Lancer un modem simulé sur un pseudo-terminal, avec des téléphones simulés",
		Long: `Lance un modem simulé qui parle AT sur un pseudo-terminal : pointez le
"device" d'un [[modem]] de la configuration sur le lien créé et lancez
"vigie serve". Chaque ligne tapée ici est un SMS reçu par le modem :

    +33612345678 INSCRIPTION macon-centre

Les SMS que le modem envoie s'affichent au fil de l'eau. --personality imite
une famille de modems réels (démarrage, messages parasites, écarts aux normes) :
` + personalityNames() + `.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSim(cmd.Context(), opts, g)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.link, "link", "/tmp/vigie-modem", "lien symbolique vers le pseudo-terminal")
	f.DurationVar(&opts.delay, "delay", 2*time.Second, "temps d'envoi d'un SMS par le réseau simulé")
	f.StringVar(&opts.number, "number", "", "numéro de la carte SIM simulée")
	f.StringVar(&opts.personality, "personality", "generic", "famille de modems imitée : "+personalityNames())
	f.DurationVar(&opts.clock, "network-clock", 0, "avance de l'heure du réseau sur celle de cette machine (par exemple 3h ou -48h)")
	return cmd
}

// personalityNames lists the simulated modem families for the help text.
func personalityNames() string {
	var names []string
	for _, p := range sim.Personalities() {
		names = append(names, p.String())
	}
	return strings.Join(names, ", ")
}

// parsePersonality reads a modem family name given on the command line.
func parsePersonality(name string) (sim.Personality, error) {
	p, err := sim.ParsePersonality(name)
	if err != nil {
		return p, fmt.Errorf("famille de modems « %s » inconnue : choisissez parmi %s", name, personalityNames())
	}
	return p, nil
}

func runSim(ctx context.Context, opts simOptions, g *globalOptions) error {
	p, err := parsePersonality(opts.personality)
	if err != nil {
		return err
	}
	// BootScale 1: the family's real start-up timing.
	m := sim.New(sim.Options{Number: opts.number, SendDelay: opts.delay, Personality: p, BootScale: 1, NetworkClockOffset: opts.clock})
	defer m.Close()
	path, err := m.OpenPTY(opts.link)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "Modem simulé (%s) sur %s (lien %s). Tapez « numéro texte » pour envoyer un SMS au modem ; Ctrl-D pour quitter.\n", p, path, opts.link)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lines := make(chan string)
	go readLines(ctx, g.stdin, lines)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	shown := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			from, text, found := strings.Cut(strings.TrimSpace(line), " ")
			if !found || from == "" {
				fmt.Fprintln(g.stdout, "format : <numéro> <texte>")
				continue
			}
			if err := m.Inject(from, text); err != nil {
				fmt.Fprintf(g.stdout, "SMS refusé : %v\n", err)
			}
		case <-tick.C:
			all := m.AllReceived()
			for _, s := range all[shown:] {
				fmt.Fprintf(g.stdout, "[%s] → %s : %s\n", s.At.Format("15:04:05"), s.To, s.Text)
			}
			shown = len(all)
		}
	}
}

// readLines forwards lines of r until it ends or ctx is cancelled; a Scan
// blocked on a terminal ends with the process.
func readLines(ctx context.Context, r io.Reader, out chan<- string) {
	defer close(out)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		select {
		case out <- sc.Text():
		case <-ctx.Done():
			return
		}
	}
}
