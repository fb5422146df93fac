package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"vigie/gateway/apitype"
	"vigie/gateway/client"
	"vigie/gateway/config"
	"vigie/gateway/french"
	"vigie/modem/sim"
)

type demoOptions struct {
	delay   time.Duration
	verbose bool
	modem   string
}

func newDemoCommand(g *globalOptions) *cobra.Command {
	var opts demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Démonstration complète sur un modem et des téléphones simulés",
		Long: `Lance le démon dans un dossier temporaire sur un modem simulé (un vrai
pseudo-terminal, le vrai pilote AT, de vrais PDU) et raconte ce qui se passe :
des commerçants s'inscrivent par SMS, une alerte part, un commerçant envoie
STOP, une seconde alerte ne lui parvient plus. Rien n'est laissé derrière.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), opts, g)
		},
	}
	cmd.Flags().DurationVar(&opts.delay, "delay", 400*time.Millisecond, "temps d'envoi d'un SMS par le réseau simulé")
	cmd.Flags().BoolVar(&opts.verbose, "verbose", false, "afficher aussi le journal du démon")
	cmd.Flags().StringVar(&opts.modem, "modem", "generic", "famille de modems imitée par le modem simulé : "+personalityNames())
	return cmd
}

// demoConfig is the daemon's configuration for the demo; it goes through
// the same parser as /etc/vigie/vigie.toml.
const demoConfig = `
[station]
name = "CORG 71 Charnay-lès-Mâcon (démonstration)"
region = "FR"

[store]
path = "%[1]s/vigie.db"

[api]
socket = "%[1]s/vigie.sock"

[[modem]]
name = "m1"
device = "%[1]s/modem"
rate_per_minute = 120
burst = 2

[sms]
prefix = "Vigilance commerce 71 : "
signature = " Gendarmerie. STOP pour ne plus recevoir."
max_parts = 3
transliterate = true
alert_ttl = "4h"

[keywords]
subscription = "open"

[[zone]]
id = "macon"
name = "Mâcon"
aliases = ["MACON", "71000"]

[[zone]]
id = "macon-centre"
name = "Mâcon centre"
parent = "macon"
aliases = ["CENTRE"]

[[zone]]
id = "macon-nord"
name = "Mâcon nord"
parent = "macon"

[[zone]]
id = "charnay"
name = "Charnay-lès-Mâcon"
aliases = ["CHARNAY", "71850"]
`

// shop is a simulated shopkeeper's phone in the story.
type shop struct {
	name, number, zone string
}

var demoShops = []shop{
	{"Boulangerie Dufour", "+33611223344", "macon-centre"},
	{"Tabac de la Gare", "+33622334455", "Mâcon-Nord"},
	{"Bijouterie Lamy", "+33633445566", "71000"},
	{"Pharmacie du Pont", "+33644556677", "charnay"},
}

// story prints what happens with the time since the start.
type story struct {
	w     io.Writer
	start time.Time
}

func (s *story) say(format string, args ...any) {
	fmt.Fprintf(s.w, "[%5.1fs] %s\n", time.Since(s.start).Seconds(), fmt.Sprintf(format, args...))
}

func (s *story) chapter(title string) { fmt.Fprintf(s.w, "\n== %s ==\n", title) }

func runDemo(ctx context.Context, opts demoOptions, g *globalOptions) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "vigie-demo-")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)

	family, err := parsePersonality(opts.modem)
	if err != nil {
		return err
	}
	s := &story{w: g.stdout, start: time.Now()}
	phones := sim.New(sim.Options{SendDelay: opts.delay, Personality: family, BootScale: 1})
	defer phones.Close()
	pty, err := phones.OpenPTY(filepath.Join(dir, "modem"))
	if err != nil {
		return err
	}
	s.say("Modem simulé (%s) branché sur %s (pseudo-terminal réel) ; chaque SMS met %s à partir.", family, pty, opts.delay)

	cfg, err := config.Parse(strings.NewReader(fmt.Sprintf(demoConfig, dir)), "demo.toml")
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	logw := io.Discard
	if opts.verbose {
		logw = g.stderr
	}
	log := newLogger(logw, slog.LevelInfo)
	daemonCtx, stopDaemon := context.WithCancel(ctx)
	defer stopDaemon()
	daemonDone := make(chan error, 1)
	ready := make(chan struct{})
	go func() { daemonDone <- runDaemon(daemonCtx, cfg, log, func() { close(ready) }) }()
	select {
	case <-ready:
	case err := <-daemonDone:
		return fmt.Errorf("daemon: %w", err)
	}
	s.say("Démon lancé : base %s, socket %s.", cfg.Store.Path, cfg.API.Socket)
	c := client.New(cfg.API.Socket)

	err = tell(ctx, s, c, phones)
	stopDaemon()
	derr := <-daemonDone
	if err == nil && derr != nil && !errors.Is(derr, context.Canceled) {
		err = fmt.Errorf("daemon: %w", derr)
	}
	if err == nil {
		s.say("Démon arrêté, dossier temporaire supprimé. Fin de la démonstration.")
	}
	return err
}

// tell runs the scenario against the daemon, as the shopkeepers and the
// operator would.
func tell(ctx context.Context, s *story, c *client.Client, phones *sim.Modem) error {
	s.chapter("1. Des commerçants s'inscrivent par SMS")
	for _, sh := range demoShops {
		text := "INSCRIPTION " + sh.zone
		s.say("%s (%s) envoie « %s »", sh.name, sh.number, text)
		if err := phones.Inject(sh.number, text); err != nil {
			return err
		}
	}
	for _, sh := range demoShops {
		got, err := phones.WaitReceived(ctx, sh.number, 1)
		if err != nil {
			return fmt.Errorf("%s attend sa confirmation : %w", sh.name, err)
		}
		s.say("%s reçoit : %s", sh.name, got[0].Text)
	}

	s.chapter("2. L'opérateur alerte la zone « macon » (et ses sous-zones)")
	req := apitype.AlertRequest{
		Zones: []string{"macon"}, Category: "escroquerie",
		Text: "escroquerie au faux billet de 50 € ce matin rue Carnot : homme ~30 ans, veste bleue. Vérifiez vos billets.",
	}
	p, err := c.PreviewAlert(ctx, req)
	if err != nil {
		return err
	}
	s.say("Aperçu : %d commerçants, %d SMS chacun (%s), durée estimée %s", p.Recipients, p.Parts, p.Encoding,
		french.Duration(time.Duration(p.ETASeconds*float64(time.Second))))
	s.say("Texte final : %s", p.Text)
	a1, err := c.SendAlert(ctx, req)
	if err != nil {
		return err
	}
	s.say("Alerte %d acceptée et enregistrée (%s).", a1.ID, count(a1.Recipients, "destinataire", "destinataires"))
	inZone := demoShops[:3] // Charnay is not under Mâcon
	for _, sh := range inZone {
		got, err := phones.WaitReceived(ctx, sh.number, 2)
		if err != nil {
			return fmt.Errorf("%s attend l'alerte : %w", sh.name, err)
		}
		s.say("%s reçoit (%d SMS) : %s", sh.name, got[1].Parts, got[1].Text)
	}
	if err := waitDone(ctx, c, a1.ID); err != nil {
		return err
	}
	s.say("%s (Charnay, hors zone) n'a rien reçu : %s au total.", demoShops[3].name, count(len(phones.Received(demoShops[3].number)), "message", "messages"))

	s.chapter("2 bis. Un commerçant répond à l'alerte")
	witness := demoShops[1]
	const seen = "je l'ai vu partir à pied vers la gare il y a 5 minutes"
	s.say("%s envoie « %s »", witness.name, seen)
	if err := phones.Inject(witness.number, seen); err != nil {
		return err
	}
	replies, err := waitReplies(ctx, c, a1.ID, 1)
	if err != nil {
		return err
	}
	s.say("Réponse rattachée à l'alerte %d (vigie alert show %d) : « %s »", a1.ID, a1.ID, replies[0].Text)
	got, err := phones.WaitReceived(ctx, witness.number, 3)
	if err != nil {
		return fmt.Errorf("%s attend l'accusé de sa réponse : %w", witness.name, err)
	}
	s.say("%s reçoit : %s", witness.name, got[2].Text)

	s.chapter("3. Un commerçant se désinscrit")
	quitter := demoShops[0]
	s.say("%s envoie « stop »", quitter.name)
	if err := phones.Inject(quitter.number, "stop"); err != nil {
		return err
	}
	got, err = phones.WaitReceived(ctx, quitter.number, 3)
	if err != nil {
		return fmt.Errorf("%s attend la confirmation du STOP : %w", quitter.name, err)
	}
	s.say("%s reçoit : %s", quitter.name, got[2].Text)

	s.chapter("4. Seconde alerte à la même zone")
	req2 := apitype.AlertRequest{Zones: []string{"macon"}, Category: "vol",
		Text: "fin d'alerte : l'auteur des faux billets a été interpellé. Merci de votre vigilance."}
	a2, err := c.SendAlert(ctx, req2)
	if err != nil {
		return err
	}
	s.say("Alerte %d acceptée (%s).", a2.ID, count(a2.Recipients, "destinataire", "destinataires"))
	if err := waitDone(ctx, c, a2.ID); err != nil {
		return err
	}
	for _, sh := range inZone {
		msgs := phones.Received(sh.number)
		last := msgs[len(msgs)-1]
		if sh == quitter {
			s.say("%s n'a plus rien reçu après son STOP (dernier SMS : « %.40s… »).", sh.name, last.Text)
			continue
		}
		s.say("%s reçoit : %s", sh.name, last.Text)
	}

	s.chapter("5. Compte rendu")
	for _, id := range []uint64{a1.ID, a2.ID} {
		rep, err := c.Alert(ctx, id)
		if err != nil {
			return err
		}
		s.say("Alerte %d par %s : %s, envoyés %d, échoués %d, supprimés (STOP) %d.",
			rep.ID, rep.Author, count(rep.Recipients, "destinataire", "destinataires"), rep.Counts["sent"]+rep.Counts["delivered"], rep.Counts["failed"], rep.Counts["suppressed"])
	}
	for _, sh := range demoShops {
		s.say("Téléphone %-20s : %s", sh.name, count(len(phones.Received(sh.number)), "SMS reçu", "SMS reçus"))
	}
	today := time.Now()
	rep, err := c.Report(ctx, today, today.AddDate(0, 0, 1), nil)
	if err != nil {
		return err
	}
	tot := rep.Totals
	s.say("Rapport du jour (vigie rapport) : %s, %s, %s remis, délai médian jusqu'au dernier SMS %s, %s, %s.",
		count(tot.Alerts, "alerte", "alertes"), count(tot.Recipients, "destinataire", "destinataires"),
		count(tot.Delivered, "SMS", "SMS"), french.Duration(time.Duration(tot.MedianToLastSeconds)*time.Second),
		count(tot.Replies, "réponse de témoin", "réponses de témoins"), count(tot.Stops, "STOP", "STOP"))
	if slices.ContainsFunc(phones.Received(quitter.number), func(m sim.SMS) bool { return strings.Contains(m.Text, "interpellé") }) {
		return errors.New("le commerçant désinscrit a reçu la seconde alerte")
	}
	return nil
}

// waitReplies polls the daemon until n witness replies are tied to the alert.
func waitReplies(ctx context.Context, c *client.Client, id uint64, n int) ([]apitype.Reply, error) {
	for {
		a, err := c.Alert(ctx, id)
		if err != nil {
			return nil, err
		}
		if len(a.Replies) >= n {
			return a.Replies, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("alert %d: waiting for %d witness replies: %w", id, n, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitDone polls the daemon until every message of the alert is final.
func waitDone(ctx context.Context, c *client.Client, id uint64) error {
	for {
		a, err := c.Alert(ctx, id)
		if err != nil {
			return err
		}
		if a.Done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("alerte %d toujours en cours : %w", id, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
