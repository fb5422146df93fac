package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/render"
)

// followUpDaemon previews follow-ups that leave out missed recipients and
// records the ones it was asked to send.
type followUpDaemon struct {
	*fakeDaemon
	missed, pending int
	sent            []string
}

func (d *followUpDaemon) PreviewFollowUp(id uint64, text string) (apitype.Preview, error) {
	if id != 7 {
		return apitype.Preview{}, apitype.NotFound("alerte %d introuvable", id)
	}
	if strings.HasPrefix(text, "TROP") {
		return apitype.Preview{}, apitype.Invalid("texte trop long : 6 SMS par destinataire (GSM7, 900 caractères), le maximum est 5 : retirez au moins 135 caractères")
	}
	return apitype.Preview{Text: "Vigilance commerce 71 : " + text + " Gendarmerie.", Encoding: "GSM7", Parts: 1, Chars: 60,
		Recipients: 7 - d.missed, ETASeconds: 6, Missed: d.missed, Pending: d.pending}, nil
}

func (d *followUpDaemon) FollowUp(_ context.Context, id uint64, text, _ string) (apitype.Alert, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sent = append(d.sent, text)
	return apitype.Alert{ID: 8, FollowUpOf: id, Text: text, Recipients: 7 - d.missed, Parts: 1}, nil
}

// The composed text can be edited at the confirmation: [m]odifier shows
// it, reads the new one, previews it again (a refused one is said and
// asked again) and asks anew.
func TestAlertSendEditBeforeConfirming(t *testing.T) {
	d := &fakeDaemon{}
	socket := serveFake(t, d)
	stdin := "m\nTROP long\nVol rue Carnot, homme en veste rouge.\no\n"
	out, errOut, code := opsRun{stdin: stdin, stdinTTY: true}.run(t, socket, "alert", "send", "--zone", "macon", "Vol rue Carnot.")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	for _, w := range []string{
		"Texte qui sera envoyé :\n  Vigilance commerce 71 : Vol rue Carnot. Gendarmerie.\n",
		"Envoyer à 3 commerçants ? [o]ui / [n]on / [m]odifier : Texte actuel : Vol rue Carnot.\nNouveau texte (Entrée pour garder l'actuel) : ",
		"Texte refusé : texte trop long : 6 SMS par destinataire (GSM7, 900 caractères), le maximum est 5 : retirez au moins 135 caractères. Modifiez-le encore.\n" +
			"Texte actuel : Vol rue Carnot.\nNouveau texte (Entrée pour garder l'actuel) : ",
		"Texte qui sera envoyé :\n  Vigilance commerce 71 : Vol rue Carnot, homme en veste rouge. Gendarmerie.\n",
		"Alerte 7 acceptée : 3 destinataires, 1 SMS chacun. Suivi : vigie alert show 7\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if len(d.sent) != 1 || d.sent[0].Text != "Vol rue Carnot, homme en veste rouge." {
		t.Errorf("sent %+v, want the edited text", d.sent)
	}

	// Entrée keeps the text; [n]on then abandons.
	d2 := &fakeDaemon{}
	out, _, code = opsRun{stdin: "m\n\nn\n", stdinTTY: true}.run(t, serveFake(t, d2), "alert", "send", "--zone", "macon", "Vol.")
	if code != exitOK || len(d2.sent) != 0 || strings.Count(out, "[o]ui / [n]on / [m]odifier : ") != 2 ||
		!strings.HasSuffix(out, "Alerte abandonnée : rien n'a été envoyé.\n") {
		t.Errorf("keep then no: exit %d, sent %v:\n%s", code, d2.sent, out)
	}
}

func TestLengthHints(t *testing.T) {
	preview := func(s string) apitype.Preview {
		m := render.Measure(s)
		return apitype.Preview{Text: m.Body, Encoding: string(m.Encoding), Parts: m.Parts, Chars: m.Chars}
	}
	cases := []struct {
		name, text string
		want       []string
	}{
		{"one GSM SMS", "Vol rue Carnot.", nil},
		{"two GSM parts", strings.Repeat("a", 170), []string{"Retirez 10 caractères pour passer à 1 SMS par destinataire."}},
		{"one over", strings.Repeat("a", 161), []string{"Retirez 1 caractère pour passer à 1 SMS par destinataire."}},
		{"UCS-2 for one letter", "Fenêtre forcée " + strings.Repeat("a", 60), []string{
			"Hors alphabet GSM, ces caractères imposent l'UCS-2 : « ê » ; sans eux : 1 SMS au lieu de 2.",
			"Retirez 5 caractères pour passer à 1 SMS par destinataire.",
		}},
		{"UCS-2 that saves nothing", "⚠ vol", []string{"Hors alphabet GSM, ces caractères imposent l'UCS-2 : « ⚠ »."}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := lengthHints(preview(c.text))
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("hints = %q, want %q", got, c.want)
			}
		})
	}
}

// A follow-up is previewed like an alert and says how many recipients of
// the alert it leaves out, singular or plural.
func TestFollowUpPreviewAndConfirm(t *testing.T) {
	cases := []struct {
		missed, pending int
		says            string
	}{
		{0, 0, "Tous les destinataires de l'alerte 7 l'ont reçue ou la recevront.\n"},
		{0, 1, "Dont 1 encore en attente de l'alerte 7 : il la recevra d'abord, puis cette suite.\nTous les destinataires"},
		{2, 4, "Dont 4 encore en attente de l'alerte 7 : ils la recevront d'abord, puis cette suite.\n2 destinataires de l'alerte 7 ne l'ont pas reçue"},
		{1, 0, "1 destinataire de l'alerte 7 ne l'a pas reçue (annulée, STOP, échec ou délai dépassé) : il ne recevra pas cette suite.\n"},
		{3, 0, "3 destinataires de l'alerte 7 ne l'ont pas reçue (annulée, STOP, échec ou délai dépassé) : ils ne recevront pas cette suite.\n"},
	}
	for _, c := range cases {
		d := &followUpDaemon{fakeDaemon: &fakeDaemon{}, missed: c.missed, pending: c.pending}
		socket := serveFakeBackend(t, d)
		out, errOut, code := opsRun{stdin: "m\nTROP\nFin d'alerte : individu interpellé.\no\n", stdinTTY: true}.run(t, socket, "alerte", "followup", "7", "Fin", "d'alerte.")
		if code != exitOK {
			t.Fatalf("missed %d: exit %d: %s", c.missed, code, errOut)
		}
		n := 7 - c.missed
		for _, w := range []string{
			"Suite de l'alerte 7, pour ceux qui l'ont reçue.\nTexte qui sera envoyé :\n  Vigilance commerce 71 : Fin d'alerte. Gendarmerie.\n" +
				"Codage : GSM 7 bits (160 caractères par SMS, 153 par partie) ; 60 caractères, 1 SMS par destinataire\n" +
				"Destinataires : " + count(n, "commerçant", "commerçants") + ", " + count(n, "SMS", "SMS") + " au total ; durée d'envoi estimée : 6 s\n" + c.says,
			"Envoyer cette suite à " + count(n, "destinataire", "destinataires") + " ? [o]ui / [n]on / [m]odifier : Texte actuel : Fin d'alerte.\n",
			"Texte refusé : texte trop long",
			"  Vigilance commerce 71 : Fin d'alerte : individu interpellé. Gendarmerie.\n",
			"Suite de l'alerte 7 acceptée (alerte 8) : " + count(n, "destinataire", "destinataires") + ", 1 SMS chacun. Suivi : vigie alert show 8\n",
		} {
			if !strings.Contains(out, w) {
				t.Errorf("missed %d: output lacks %q:\n%s", c.missed, w, out)
			}
		}
		if len(d.sent) != 1 || d.sent[0] != "Fin d'alerte : individu interpellé." {
			t.Errorf("missed %d: follow-ups sent %q, want the edited text", c.missed, d.sent)
		}
	}
}

// Cancelling an alert and erasing a number cannot be undone: they ask on a
// terminal, and refuse elsewhere without --yes, saying how to confirm.
func TestIrreversibleCommandsAsk(t *testing.T) {
	d := &fakeDaemon{progress: []map[string]int{{"queued": 2, "sending": 1, "sent": 4}}}
	socket := serveFake(t, d)
	_, errOut, code := opsRun{}.run(t, socket, "alert", "cancel", "7")
	if code != exitUsage || !strings.Contains(errOut, "c'est irréversible et la confirmation ne peut pas être lue ici : pour confirmer, relancez avec --yes (vigie alert cancel 7 --yes)") {
		t.Errorf("cancel off a terminal: exit %d, stderr %q", code, errOut)
	}
	question := "Annuler l'alerte 7 ? 3 SMS pas encore partis ne partiront pas (ceux déjà partis ne peuvent pas être rappelés). [o/N] "
	out, _, code := opsRun{stdin: "n\n", stdinTTY: true}.run(t, socket, "alert", "cancel", "7")
	if code != exitOK || out != question+"Rien n'a été annulé : l'alerte 7 continue.\n" {
		t.Errorf("cancel, no: exit %d, out %q", code, out)
	}
	if len(d.cancelled) != 0 {
		t.Fatalf("cancelled %v without a yes", d.cancelled)
	}
	out, _, code = opsRun{stdin: "o\n", stdinTTY: true}.run(t, socket, "alert", "cancel", "7")
	if code != exitOK || !strings.HasPrefix(out, question+"Alerte 7 : ") || len(d.cancelled) != 1 {
		t.Errorf("cancel, yes: exit %d, out %q, cancelled %v", code, out, d.cancelled)
	}
	if _, _, code = (opsRun{}).run(t, socket, "alert", "cancel", "7", "--yes"); code != exitOK || len(d.cancelled) != 2 {
		t.Errorf("cancel --yes: exit %d, cancelled %v", code, d.cancelled)
	}

	f := &subscribersFake{}
	sock := serveFakeBackend(t, f)
	_, errOut, code = opsRun{}.run(t, sock, "abonnes", "remove", "06 11 11 11 11", "--erase")
	if code != exitUsage || f.removed != "" ||
		!strings.Contains(errOut, "pour confirmer, relancez avec --yes (vigie subscribers remove 06 11 11 11 11 --erase --yes)") {
		t.Errorf("erase off a terminal: exit %d, removed %q, stderr %q", code, f.removed, errOut)
	}
	erase := "Effacer définitivement les données de 06 11 11 11 11 ? Abonnement, SMS reçus et numéro dans l'historique seront effacés sans retour possible. [o/N] "
	out, _, code = opsRun{stdin: "\n", stdinTTY: true}.run(t, sock, "subscribers", "remove", "06 11 11 11 11", "--erase")
	if code != exitOK || out != erase+"Rien n'a été effacé.\n" || f.removed != "" {
		t.Errorf("erase, Enter: exit %d, out %q, removed %q", code, out, f.removed)
	}
	out, _, code = opsRun{stdin: "oui\n", stdinTTY: true}.run(t, sock, "subscribers", "remove", "06 11 11 11 11", "--erase")
	if code != exitOK || !strings.HasPrefix(out, erase+"+33611111111 effacé") || f.removed != "06 11 11 11 11" || !f.erase {
		t.Errorf("erase, oui: exit %d, out %q, removed %q", code, out, f.removed)
	}
	// A plain removal can be undone (the shop subscribes again): no question.
	f.removed = ""
	if _, _, code = (opsRun{}).run(t, sock, "subscribers", "remove", "06 11 11 11 11"); code != exitOK || f.removed == "" || f.erase {
		t.Errorf("remove: exit %d, removed %q, erase %v", code, f.removed, f.erase)
	}
}

// On a terminal, send follows the progress by default with a bar; off it,
// or with --wait=false, it hands back at once.
func TestAlertSendFollowsOnATerminal(t *testing.T) {
	steps := []map[string]int{{"queued": 7}, {"queued": 3, "sent": 3, "failed": 1}, {"sent": 4, "delivered": 2, "failed": 1}}
	d := &fakeDaemon{progress: steps}
	socket := serveFake(t, d)
	out, errOut, code := opsRun{stdin: "o\n", stdinTTY: true, stdoutTTY: true}.run(t, socket, "alert", "send", "--interval", "1ms", "--zone", "macon", "Vol.")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, w := range []string{
		"\r\033[K[░░░░░░░░░░░░░░░░░░░░]   0 %  envoyés 0/7, remis 0, échecs 0 ; écoulé 0 s, reste environ 42 s",
		"\r\033[K[███████████░░░░░░░░░]  57 %  envoyés 3/7, remis 0, échecs 1 ; écoulé ",
		"\r\033[K[████████████████████] 100 %  envoyés 6/7, remis 2, échecs 1 ; écoulé ",
		"\nAlerte 7 terminée. Messages : envoyés 4, remis 2, échoués 1\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%q", w, out)
		}
	}
	if d.summaries != len(steps) {
		t.Errorf("progress read by %d counts-only calls, want %d (one per step)", d.summaries, len(steps))
	}
	for _, s := range []opsRun{{stdin: "o\n", stdinTTY: true}, {stdin: "o\n", stdinTTY: true, stdoutTTY: true}} {
		d.calls = 0
		args := []string{"alert", "send", "--zone", "macon", "Vol."}
		if s.stdoutTTY {
			args = append(args, "--wait=false")
		}
		out, _, code := s.run(t, socket, args...)
		if code != exitOK || strings.Contains(out, "envoyés 0/7") || strings.Contains(out, "terminée") {
			t.Errorf("%v: exit %d, followed anyway:\n%s", args, code, out)
		}
	}
}

// The guided form checks the target before its first question and asks
// again for a wrong zone or trade (listing the possible ones), then checks
// the text as each answer is typed: a refused answer is asked again, the
// others are kept.
func TestAlertGuidedFormChecksAsTyped(t *testing.T) {
	d := &fakeDaemon{}
	socket := serveFake(t, d)
	long := strings.Repeat("rue Carnot ", 20)
	stdin := strings.Join([]string{
		"atlantide",    // zone: still unknown
		"macon",        // zone
		"tabac-presse", // trade
		"vol à l'étalage",
		long, // where: too long, asked again
		"rue Carnot",
		"", "", "",
		"o",
	}, "\n") + "\n"
	out, errOut, code := opsRun{stdin: stdin, stdinTTY: true}.run(t, socket, "alert", "send", "--zone", "macn", "--trade", "boulangeri")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	zones := "Zones possibles : macon (Mâcon), macon-centre (Mâcon centre)\nZone visée ? (identifiant ; plusieurs : macon, charnay) "
	want := "Zone refusée : zone inconnue : \"macn\" (voir `vigie zones`).\n" + zones +
		"Zone refusée : zone inconnue : \"atlantide\" (voir `vigie zones`).\n" + zones +
		"Métier refusé : métier inconnu : \"boulangeri\" (voir `vigie zones`).\n" +
		"Métiers possibles : tabac-presse (Tabac-presse)\n" +
		"Métiers visés ? (identifiants séparés par des virgules ; Entrée : tous les métiers) " +
		"Composition de l'alerte (Entrée pour passer une question ; jamais le nom de la victime).\n" +
		"Que s'est-il passé ? (ex. : vol à l'étalage) " +
		"Où ? (ex. : rue Carnot) " +
		"Réponse refusée : texte trop long : 6 SMS par destinataire (GSM7, 900 caractères), le maximum est 5 : retirez au moins 135 caractères. Raccourcissez-la.\n" +
		"Où ? (ex. : rue Carnot) " +
		"Quand ? (ex. : ce jour vers 15h) "
	if !strings.HasPrefix(out, want) {
		t.Errorf("form output:\n%s\nwant it to begin with:\n%s", out, want)
	}
	if len(d.sent) != 1 || d.sent[0].Text != "Vol à l'étalage, rue Carnot." || !slices.Equal(d.sent[0].Zones, []string{"macon"}) ||
		!slices.Equal(d.sent[0].Trades, []string{"tabac-presse"}) {
		t.Errorf("sent %+v", d.sent)
	}

	// No zone at all on a terminal: asked, not refused.
	out, errOut, code = opsRun{stdin: "macon\nvol\n\n\n\n\no\n", stdinTTY: true}.run(t, socket, "alert", "send")
	if code != exitOK || !strings.HasPrefix(out, "Zone refusée : aucune zone indiquée.\n"+zones) || len(d.sent) != 2 {
		t.Errorf("no zone: exit %d, stderr %q:\n%s", code, errOut, out)
	}
	// Nothing typed for the zone: abandoned, said so.
	_, errOut, code = opsRun{stdinTTY: true}.run(t, socket, "alert", "send")
	if code != exitUsage || !strings.Contains(errOut, "alerte abandonnée : aucune zone saisie, rien n'a été envoyé") {
		t.Errorf("empty zone: exit %d, stderr %q", code, errOut)
	}
}

// A daemon's message quoted in a sentence gets one final mark, never « ?. ».
func TestSentenceEndsOnce(t *testing.T) {
	for in, want := range map[string]string{
		"zone inconnue « macn » ; vouliez-vous dire « macon » (Mâcon) ?": "zone inconnue « macn » ; vouliez-vous dire « macon » (Mâcon) ?",
		"aucune zone indiquée":  "aucune zone indiquée.",
		"texte trop long.":      "texte trop long.",
		"reste environ 1 min :": "reste environ 1 min.",
	} {
		if got := sentence(in, false); got != want {
			t.Errorf("sentence(%q) = %q, want %q", in, got, want)
		}
	}
}

// A send refused because the target changed since the preview (412) is
// said, previewed again and asked again; the confirmed send carries the
// new preview's fingerprint.
func TestAlertSendAsksAgainWhenTheTargetChanged(t *testing.T) {
	d := &fakeDaemon{targetChanges: 1}
	socket := serveFake(t, d)
	out, errOut, code := opsRun{stdin: "o\no\n", stdinTTY: true}.run(t, socket, "alert", "send", "--wait=false", "--zone", "macon", "Vol.")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	if !strings.Contains(out, "La cible a changé depuis l'aperçu (4 destinataires maintenant, 3 à l'aperçu)") ||
		strings.Count(out, "Envoyer à 3 commerçants ?") != 2 || !strings.Contains(out, "Alerte 7 acceptée") {
		t.Errorf("output:\n%s", out)
	}
	if len(d.sent) != 2 || d.sent[0].Fingerprint != "fp1" || d.sent[1].Fingerprint != "fp2" || d.sent[1].Expected != 3 {
		t.Errorf("sends %+v, want fp1 then fp2 (the new preview's)", d.sent)
	}
	// Answering no the second time sends nothing more.
	d.targetChanges, d.sent = 1, nil
	out, _, code = opsRun{stdin: "o\nn\n", stdinTTY: true}.run(t, socket, "alert", "send", "--wait=false", "--zone", "macon", "Vol.")
	if code != exitOK || len(d.sent) != 1 || !strings.Contains(out, "Alerte abandonnée") {
		t.Errorf("exit %d, sends %d:\n%s", code, len(d.sent), out)
	}
}

func TestSentSeenSpreadsCounts(t *testing.T) {
	var s sentSeen
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	s.observe(t0, 0)
	s.observe(t0.Add(time.Second), 4)
	s.observe(t0.Add(2*time.Second), 4) // nothing left this second
	s.observe(t0.Add(3*time.Second), 6)
	want := []time.Duration{250, 500, 750, 1000, 2500, 3000}
	if len(s.times) != len(want) {
		t.Fatalf("times %v", s.times)
	}
	for i, ms := range want {
		if got := s.times[i].Sub(t0); got != ms*time.Millisecond {
			t.Errorf("time %d at %v, want %v", i, got, ms*time.Millisecond)
		}
	}
}
