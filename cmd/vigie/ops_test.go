package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"vigie/gateway/api"
	"vigie/gateway/apitype"
)

func init() {
	// Another test file of this package may define it too.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files of testdata/golden")
	}
}

// updating says whether -update was given.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// fakeDaemon is a Backend with fixed answers that records what the CLI
// asked; the real daemon is covered by ops_e2e_test.go.
type fakeDaemon struct {
	api.Backend // nil: what these tests do not call

	mu        sync.Mutex
	summaries int // AlertSummary calls
	// targetChanges is how many sends to refuse as if the target had
	// changed since the preview (412).
	targetChanges int
	sent          []apitype.AlertRequest
	previews      int
	cancelled     []uint64
	read          []uint64
	tests         []apitype.TestRequest
	modem         string // state of the one modem
	// progress is what successive Alert calls answer for alert 7; the
	// last one repeats. onAlert runs at each call.
	progress []map[string]int
	calls    int
	onAlert  func(call int)
}

var fakeAt = time.Date(2026, 3, 14, 15, 4, 5, 0, time.UTC)

func (d *fakeDaemon) previewCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.previews
}

func (d *fakeDaemon) PreviewAlert(req apitype.AlertRequest) (apitype.Preview, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.previews++
	if req.Text == "" {
		return apitype.Preview{}, apitype.Invalid("le texte de l'alerte est vide")
	}
	for _, z := range req.Zones {
		if !slices.Contains([]string{"macon", "macon-centre", "charnay"}, z) {
			return apitype.Preview{}, apitype.Invalid("zone inconnue : %q (voir `vigie zones`)", z)
		}
	}
	for _, tr := range req.Trades {
		if tr != "tabac-presse" {
			return apitype.Preview{}, apitype.Invalid("métier inconnu : %q (voir `vigie zones`)", tr)
		}
	}
	if strings.HasPrefix(req.Text, "TROP") || utf8.RuneCountInString(req.Text) > 200 {
		return apitype.Preview{}, apitype.Invalid("texte trop long : 6 SMS par destinataire (GSM7, 900 caractères), le maximum est 5 : retirez au moins 135 caractères")
	}
	return apitype.Preview{
		Text: "Vigilance commerce 71 : " + req.Text + " Gendarmerie.", Encoding: "GSM7", Parts: 1, Chars: 120,
		Recipients: 3, ETASeconds: 18, Fingerprint: fmt.Sprintf("fp%d", d.previews),
		ByZone: []apitype.ZoneCount{{Zone: "macon", Name: "Mâcon", Recipients: 2}, {Zone: "charnay", Name: "Charnay-lès-Mâcon", Recipients: 1}},
	}, nil
}

func (d *fakeDaemon) SendAlert(_ context.Context, req apitype.AlertRequest, author string) (apitype.Alert, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sent = append(d.sent, req)
	if d.targetChanges > 0 {
		d.targetChanges--
		return apitype.Alert{}, apitype.TargetChanged("la cible a changé depuis l'aperçu (4 destinataires maintenant, 3 à l'aperçu) ; rien n'est envoyé : vérifiez le nouvel aperçu et confirmez à nouveau")
	}
	return apitype.Alert{ID: 7, Author: author, Text: req.Text, Recipients: 3, Parts: 1, Counts: map[string]int{"queued": 3}}, nil
}

func (d *fakeDaemon) CancelAlert(_ context.Context, id uint64, _ string) (apitype.CancelResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cancelled = append(d.cancelled, id)
	return apitype.CancelResult{}, nil
}

func (d *fakeDaemon) Alert(id uint64) (apitype.AlertReport, error) {
	d.mu.Lock()
	call := d.calls
	d.calls++
	counts := map[string]int{"sent": 1, "delivered": 2, "failed": 1, "expired": 1, "cancelled": 1, "suppressed": 1}
	if len(d.progress) > 0 {
		counts = d.progress[min(call, len(d.progress)-1)]
	}
	hook := d.onAlert
	d.mu.Unlock()
	if hook != nil {
		hook(call)
	}
	if id != 7 {
		return apitype.AlertReport{}, apitype.NotFound("alerte %d introuvable", id)
	}
	done := counts["queued"]+counts["sending"] == 0
	return apitype.AlertReport{
		Alert: apitype.Alert{
			ID: 7, Author: "gendarme", CreatedAt: fakeAt, Category: "vol", Zones: []string{"macon"}, ZoneNames: []string{"Mâcon"},
			Text: "Vol rue Carnot.", Rendered: "Vigilance commerce 71 : Vol rue Carnot. Gendarmerie.",
			Encoding: "GSM7", Parts: 1, Recipients: 7, Counts: counts, Done: done,
		},
		Messages: []apitype.Message{
			{ID: 1, To: "+33611111111", State: "delivered", Attempts: 1, Modem: "m1", SentAt: fakeAt, DeliveredAt: fakeAt},
			{ID: 2, To: "+33622222222", State: "delivered", Attempts: 1, Modem: "m1"},
			{ID: 3, To: "+33633333333", State: "sent", Attempts: 2, Modem: "m1", Uncertain: true, Refs: []int{42}},
			{ID: 4, To: "+33644444444", State: "failed", Attempts: 1, Modem: "m1", LastError: "+CMS ERROR: 21",
				Trade: "Tabac-presse", Zones: []string{"Mâcon centre"}},
			{ID: 5, To: "+33655555555", State: "expired"},
			{ID: 6, To: "+33666666666", State: "cancelled"},
			{ID: 7, To: "+33677777777", State: "suppressed"},
		},
	}, nil
}

// AlertSummary is Alert without the messages, as the daemon answers
// GET /v1/alerts/{id}?counts=1; summaries counts those calls.
func (d *fakeDaemon) AlertSummary(id uint64) (apitype.Alert, error) {
	d.mu.Lock()
	d.summaries++
	d.mu.Unlock()
	rep, err := d.Alert(id)
	return rep.Alert, err
}

// Alerts lists a follow-up in progress, a cancelled alert whose text
// tries to act on the terminal, and alert 7 (finished).
func (d *fakeDaemon) Alerts() ([]apitype.Alert, error) {
	rep, _ := d.Alert(7)
	return []apitype.Alert{
		{ID: 9, Author: "gendarme", CreatedAt: fakeAt, Category: "vol", Zones: []string{"macon"}, ZoneNames: []string{"Mâcon"},
			FollowUpOf: 7, Text: "Fin d'alerte : individu interpellé.", Recipients: 7, Parts: 1,
			Counts: map[string]int{"queued": 4, "sent": 3}},
		{ID: 8, Author: "cci", CreatedAt: fakeAt, Category: "escroquerie", Zones: []string{"macon", "charnay"},
			ZoneNames: []string{"Mâcon", "Charnay-lès-Mâcon"}, Trades: []string{"tabac-presse"}, TradeNames: []string{"Tabac-presse"},
			Text: "Faux\x1b[2J billets de 50 € en circulation, vérifiez chaque billet avec le feutre détecteur", Recipients: 40, Parts: 2,
			Counts: map[string]int{"sent": 1, "cancelled": 39}, Done: true},
		rep.Alert,
	}, nil
}

func (d *fakeDaemon) Status() (apitype.Status, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	state := d.modem
	if state == "" {
		state = apitype.ModemReady
	}
	return apitype.Status{
		Version: "1.0", Station: "CORG 71 test", StartedAt: fakeAt, State: "ready",
		Modems: []apitype.ModemStatus{{
			Name: "m1", Device: "/dev/vigie-modem0", State: state, Since: fakeAt, SIM: "READY", SignalDBm: -73, SignalBars: 4,
			Registration: "home", Operator: "Orange F", Manufacturer: "Quectel", Model: "EC25", Firmware: "EC25EFAR06",
			IMEI: "860000000000001", SMSC: "+33689004000", StorageUsed: 2, StorageTotal: 30,
			LastError: "+CMS ERROR: 21", LastErrorAt: fakeAt, LastErrorKind: apitype.ErrKindNetwork, ProbedAt: fakeAt,
			Sent: 12, Failed: 1, Received: 4, Reports: 10,
		}},
		Queue: map[string]int{"queued": 2, "sent": 10, "delivered": 8}, SentToday: 12, SentTodayMessages: 10, InboxUnread: 2,
		SendPerMinute: 10, QueueETASeconds: 12,
		RecipientsThisMonth: 95, RecipientsWarn: 100,
	}, nil
}

func (d *fakeDaemon) Inbox() ([]apitype.InboxMessage, error) {
	return []apitype.InboxMessage{
		{ID: 4, From: "+33633333333", Text: "INSCRIPTION macon tabac", ReceivedAt: fakeAt, Outcome: "subscribe-pending"},
		{ID: 3, From: "+33622222222", Text: "Merci, bien reçu", ReceivedAt: fakeAt, Outcome: "inbox", Read: true, ReadAt: fakeAt},
		{ID: 2, From: "+33611111111", Text: "Je l'ai vu partir\nvers la gare, une heure après, avec un sac de sport rouge", ReceivedAt: fakeAt, Outcome: "inbox"},
	}, nil
}

func (d *fakeDaemon) InboxMessage(id uint64) (apitype.InboxMessage, error) {
	ms, _ := d.Inbox()
	for _, m := range ms {
		if m.ID == id {
			return m, nil
		}
	}
	return apitype.InboxMessage{}, apitype.NotFound("message %d introuvable dans la boîte de réception", id)
}

func (d *fakeDaemon) MarkRead(_ context.Context, id uint64, _ string) (apitype.InboxMessage, error) {
	m, err := d.InboxMessage(id)
	if err != nil {
		return m, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.read = append(d.read, id)
	m.Read, m.ReadAt = true, fakeAt
	return m, nil
}

func (d *fakeDaemon) Zones() (apitype.Zones, error) {
	return apitype.Zones{
		Zones: []apitype.Zone{
			{ID: "macon", Name: "Mâcon", Aliases: []string{"MACON", "71000"}, Subscribers: 2, Reach: 5},
			{ID: "macon-centre", Name: "Mâcon centre", Parent: "macon", Aliases: []string{}, Subscribers: 3, Reach: 3},
		},
		Trades: []apitype.Trade{{ID: "tabac-presse", Name: "Tabac-presse", Aliases: []string{"TABAC"}, Subscribers: 1}},
	}, nil
}

func (d *fakeDaemon) SendTest(_ context.Context, req apitype.TestRequest, _ string) (apitype.TestResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tests = append(d.tests, req)
	return apitype.TestResult{Message: apitype.Message{ID: 12, To: "+33612345678", State: "queued"}, Text: req.Text, Encoding: "GSM7", Parts: 1}, nil
}

// serveFake serves d on a socket and returns its path.
func serveFake(t *testing.T, d *fakeDaemon) string {
	t.Helper()
	return serveFakeBackend(t, d)
}

// opsRun is one CLI run in-process: what stdin holds and whether stdin
// and stdout are terminals.
type opsRun struct {
	stdin     string
	stdinTTY  bool
	stdoutTTY bool
	ctx       context.Context
}

// run runs the CLI against the daemon on socket.
func (s opsRun) run(t *testing.T, socket string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	g := &globalOptions{stdout: &out, stderr: &errOut, stdin: strings.NewReader(s.stdin), stdinTTY: s.stdinTTY, stdoutTTY: s.stdoutTTY}
	root := newRootCommand(g)
	root.SetArgs(append([]string{"--socket", socket}, args...))
	ctx := s.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	code := report(g.stderr, root.ExecuteContext(ctx))
	return out.String(), errOut.String(), code
}

// goldenDates are what golden files must not depend on: the local time zone.
var goldenDates = regexp.MustCompile(`\d{2}/\d{2}(/\d{4})? \d{2}:\d{2}(:\d{2})?`)

// checkGolden compares got, goldenDates normalised, with testdata/golden/name.txt, or
// rewrites the file with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	got = goldenDates.ReplaceAllString(got, "JJ/MM HH:MM")
	path := filepath.Join("testdata", "golden", name+".txt")
	if updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestOpsFlagErrors(t *testing.T) {
	d := &fakeDaemon{}
	socket := serveFake(t, d)
	cases := []struct {
		name string
		s    opsRun
		args []string
		want string // in stderr
	}{
		{"preview without target", opsRun{}, []string{"alert", "preview", "texte"}, "--zone"},
		{"send with zone and all", opsRun{}, []string{"alert", "send", "--zone", "macon", "--all", "texte"}, "--zone"},
		{"send without text off a terminal", opsRun{}, []string{"alert", "send", "--zone", "macon", "--yes"}, "texte de l'alerte manquant"},
		{"followup without text", opsRun{}, []string{"alert", "followup", "7"}, "au moins 2 argument"},
		{"unknown subcommand", opsRun{}, []string{"alert", "sned", "texte"}, "sous-commande inconnue"},
		{"unknown command", opsRun{}, []string{"alertes"}, "commande inconnue « alertes » pour « vigie »"},
		{"stdin text without --yes", opsRun{stdin: "texte\n"}, []string{"alert", "send", "--zone", "macon", "-"}, "--yes"},
		{"empty stdin", opsRun{}, []string{"alert", "preview", "--all", "-"}, "aucun texte"},
		{"bad interval", opsRun{}, []string{"alert", "send", "--all", "--yes", "--wait", "--interval", "0s", "x"}, "--interval"},
		{"bad alert id", opsRun{}, []string{"alert", "show", "sept"}, "identifiant d'alerte invalide"},
		{"test without number", opsRun{}, []string{"alert", "test", "essai"}, "--to"},
		{"unknown flag", opsRun{}, []string{"alert", "test", "--too", "0612345678"}, "option inconnue"},
		{"bad inbox id", opsRun{}, []string{"inbox", "read", "x"}, "identifiant de message invalide"},
		{"inbox show without id", opsRun{}, []string{"messages", "show"}, "attend 1 argument"},
		{"zones with an argument", opsRun{}, []string{"zones", "macon"}, "attend 0 argument"},
		{"status bad interval", opsRun{}, []string{"etat", "--watch", "--interval", "-1s"}, "--interval"},
		{"config check with an argument", opsRun{}, []string{"config", "check", "x.toml"}, "attend 0 argument"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errOut, code := c.s.run(t, socket, c.args...)
			if code != exitUsage || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, exitUsage, c.want)
			}
		})
	}
	if len(d.sent) != 0 || len(d.tests) != 0 || len(d.read) != 0 || d.previews != 0 {
		t.Errorf("the daemon was asked something: %+v", d)
	}
}

func TestAlertPreviewSendsNothing(t *testing.T) {
	d := &fakeDaemon{}
	socket := serveFake(t, d)
	out, errOut, code := opsRun{}.run(t, socket, "alerte", "preview", "--zone", "macon", "--zone", "charnay", "--trade", "tabac-presse", "--category", "vol", "Vol", "rue", "Carnot.")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	checkGolden(t, "alert_preview", out)
	if len(d.sent) != 0 || d.previews != 1 {
		t.Errorf("preview sent %d alerts after %d previews, want 0 after 1", len(d.sent), d.previews)
	}

	out, _, _ = opsRun{}.run(t, socket, "alert", "preview", "--all", "--json", "x")
	var p apitype.Preview
	if err := json.Unmarshal([]byte(out), &p); err != nil || p.Recipients != 3 || len(p.ByZone) != 2 {
		t.Errorf("preview --json = %q (%v)", out, err)
	}
}

func TestAlertSendConfirms(t *testing.T) {
	cases := []struct {
		name  string
		s     opsRun
		args  []string
		sent  bool
		text  string
		reply string // in stdout
	}{
		{"yes", opsRun{stdin: "o\n", stdinTTY: true}, []string{"texte"}, true, "texte", "Alerte 7 acceptée"},
		{"oui", opsRun{stdin: " Oui \n", stdinTTY: true}, []string{"vol", "rue", "Carnot"}, true, "vol rue Carnot", "Alerte 7 acceptée"},
		{"no", opsRun{stdin: "n\n", stdinTTY: true}, []string{"texte"}, false, "", "rien n'a été envoyé"},
		{"enter", opsRun{stdin: "\n", stdinTTY: true}, []string{"texte"}, false, "", "rien n'a été envoyé"},
		{"--yes", opsRun{}, []string{"--yes", "texte"}, true, "texte", "Alerte 7 acceptée"},
		{"stdin text", opsRun{stdin: "  texte lu\nsur deux lignes\n"}, []string{"--yes", "-"}, true, "texte lu\nsur deux lignes", "Alerte 7 acceptée"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := &fakeDaemon{}
			socket := serveFake(t, d)
			out, errOut, code := c.s.run(t, socket, append([]string{"alert", "send", "--zone", "macon"}, c.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !strings.Contains(out, "Texte qui sera envoyé :") || !strings.Contains(out, c.reply) {
				t.Errorf("output lacks the preview or %q:\n%s", c.reply, out)
			}
			if asked := strings.Contains(out, "Envoyer à 3 commerçants ? [o]ui / [n]on / [m]odifier : "); asked == slices.Contains(c.args, "--yes") {
				t.Errorf("confirmation asked: %v, with args %v", asked, c.args)
			}
			if c.sent != (len(d.sent) == 1) || c.sent && d.sent[0].Text != c.text {
				t.Errorf("sent %+v, want sent=%v with text %q", d.sent, c.sent, c.text)
			}
		})
	}
}

func TestAlertGuidedForm(t *testing.T) {
	d := &fakeDaemon{}
	socket := serveFake(t, d)
	stdin := strings.Join([]string{
		"",                 // what: required, asked again
		"vol à l'étalage.", // trailing stop dropped
		"rue Carnot",
		"ce jour vers 15h",
		"homme 30 ans, veste rouge",
		"vigilance, appelez le 17",
		"o",
	}, "\n") + "\n"
	out, errOut, code := opsRun{stdin: stdin, stdinTTY: true}.run(t, socket, "alert", "send", "--zone", "macon", "--category", "vol")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	want := "Vol à l'étalage, rue Carnot, ce jour vers 15h. Individu : homme 30 ans, veste rouge. Conseil : vigilance, appelez le 17."
	if len(d.sent) != 1 || d.sent[0].Text != want || d.sent[0].Category != "vol" {
		t.Fatalf("sent %+v, want the text %q", d.sent, want)
	}
	for _, q := range []string{"Que s'est-il passé ?", "Cette réponse est nécessaire.", "Où ?", "Quand ?", "Signalement", "Conseil", "Texte composé : " + want} {
		if !strings.Contains(out, q) {
			t.Errorf("form output lacks %q:\n%s", q, out)
		}
	}

	// Nothing typed at all: nothing is sent.
	_, errOut, code = opsRun{stdinTTY: true}.run(t, socket, "alert", "send", "--zone", "macon")
	if code != exitUsage || !strings.Contains(errOut, "rien n'a été saisi") || len(d.sent) != 1 {
		t.Errorf("empty form: exit %d, stderr %q, %d sent", code, errOut, len(d.sent))
	}
}

func TestComposeAlert(t *testing.T) {
	cases := []struct {
		form alertForm
		want string
	}{
		{alertForm{"vol à l'étalage", "rue Carnot", "ce jour vers 15h", "homme 30 ans, veste rouge", "vigilance, appelez le 17"},
			"Vol à l'étalage, rue Carnot, ce jour vers 15h. Individu : homme 30 ans, veste rouge. Conseil : vigilance, appelez le 17."},
		{alertForm{what: "  Faux billets de 50 €  ", advice: "vérifiez les billets !"},
			"Faux billets de 50 €. Conseil : vérifiez les billets !"},
		{alertForm{what: "escroquerie au faux policier,", when: "ce matin;"}, "Escroquerie au faux policier, ce matin."},
		{alertForm{what: "état d'urgence ?"}, "État d'urgence ?"},
		{alertForm{}, ""},
	}
	for _, c := range cases {
		if got := c.form.compose(); got != c.want {
			t.Errorf("compose(%+v) = %q, want %q", c.form, got, c.want)
		}
	}
}

func TestAlertSendWhileNoModemReady(t *testing.T) {
	d := &fakeDaemon{modem: apitype.ModemStarting}
	socket := serveFake(t, d)
	out, errOut, code := opsRun{}.run(t, socket, "alert", "send", "--yes", "--zone", "macon", "texte")
	if code != exitOK || len(d.sent) != 1 {
		t.Fatalf("exit %d, %d sent: %s", code, len(d.sent), errOut)
	}
	if !strings.Contains(out, "émarrage en cours, modem pas encore prêt : l'alerte partira dès qu'il le sera") {
		t.Errorf("output does not say the modem is not ready:\n%s", out)
	}
	if strings.Contains(out, "durée d'envoi estimée") {
		t.Errorf("an ETA without a ready modem:\n%s", out)
	}
}

func TestAlertSendWait(t *testing.T) {
	d := &fakeDaemon{progress: []map[string]int{
		{"queued": 3},
		{"queued": 2, "sending": 1},
		{"queued": 1, "sent": 1, "failed": 1},
		{"sent": 1, "delivered": 1, "failed": 1},
	}}
	socket := serveFake(t, d)
	out, errOut, code := opsRun{}.run(t, socket, "alert", "send", "--yes", "--wait", "--interval", "1ms", "--zone", "macon", "texte")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, w := range []string{
		"envoyés 0/7, remis 0, échecs 0, restant 3, fin estimée dans 18 s",
		"envoyés 1/7, remis 0, échecs 1, restant 1, fin estimée dans",
		"envoyés 2/7, remis 1, échecs 1, restant 0\n",
		"Alerte 7 terminée. Messages : envoyés 1, remis 1, échoués 1",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}

	// --json: the final alert on stdout, the progress on stderr.
	d.calls = 0
	out, errOut, code = opsRun{}.run(t, socket, "alert", "send", "--yes", "--wait", "--json", "--interval", "1ms", "--zone", "macon", "texte")
	var a apitype.Alert
	if err := json.Unmarshal([]byte(out), &a); code != exitOK || err != nil || !a.Done || a.Counts["delivered"] != 1 {
		t.Errorf("exit %d, stdout %q (%v)", code, out, err)
	}
	if !strings.Contains(errOut, "restant 3") {
		t.Errorf("stderr lacks the progress: %q", errOut)
	}
}

// Ctrl-C while waiting stops the watching, not the sending.
func TestAlertWaitInterrupted(t *testing.T) {
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	d := &fakeDaemon{progress: []map[string]int{{"queued": 3}}}
	d.onAlert = func(call int) {
		if call == 2 {
			interrupt()
		}
	}
	socket := serveFake(t, d)
	out, errOut, code := opsRun{ctx: ctx, stdoutTTY: true}.run(t, socket, "alert", "send", "--yes", "--wait", "--interval", "1ms", "--zone", "macon", "texte")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "\r\033[K[███████████░░░░░░░░░]  57 %  envoyés 0/7, remis 0, échecs 0 ; écoulé 0 s, reste environ 18 s") ||
		!strings.Contains(out, "\nSuivi interrompu : l'envoi continue ; suivre : vigie alert show 7 ; annuler : vigie alert cancel 7\n") {
		t.Errorf("output:\n%q", out)
	}
	if len(d.cancelled) != 0 || len(d.sent) != 1 {
		t.Errorf("cancelled %v, sent %d: Ctrl-C must only stop watching", d.cancelled, len(d.sent))
	}
}

func TestAlertTest(t *testing.T) {
	d := &fakeDaemon{}
	socket := serveFake(t, d)
	out, errOut, code := opsRun{}.run(t, socket, "alert", "test", "--to", "06 12 34 56 78", "Essai", "de", "ligne")
	if code != exitOK || !strings.Contains(out, "SMS de test 12 mis en file pour +33612345678") {
		t.Fatalf("exit %d, out %q, stderr %q", code, out, errOut)
	}
	if len(d.tests) != 1 || d.tests[0] != (apitype.TestRequest{To: "06 12 34 56 78", Text: "Essai de ligne"}) {
		t.Errorf("test requests %+v", d.tests)
	}
}

func TestGoldenReports(t *testing.T) {
	d := &fakeDaemon{}
	socket := serveFake(t, d)
	cases := []struct {
		name string
		args []string
	}{
		{"alert_show", []string{"alert", "show", "7"}},
		{"alert_list", []string{"alert", "list"}},
		{"alert_cancel_done", []string{"alert", "cancel", "7"}},
		{"status", []string{"status"}},
		{"zones", []string{"zones"}},
		{"inbox_list", []string{"inbox"}},
		{"inbox_list_all", []string{"messages", "list", "--all"}},
		{"inbox_show", []string{"inbox", "show", "4"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := opsRun{}.run(t, socket, c.args...)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			checkGolden(t, c.name, out)
		})
	}
}

func TestInboxJSONAndRead(t *testing.T) {
	d := &fakeDaemon{}
	socket := serveFake(t, d)
	var ms []apitype.InboxMessage
	out, _, _ := opsRun{}.run(t, socket, "inbox", "--all", "--json")
	if err := json.Unmarshal([]byte(out), &ms); err != nil || len(ms) != 3 || ms[0].ID != 4 || ms[1].ID != 2 || ms[2].ID != 3 {
		t.Errorf("inbox --all --json = %q (%v); want unread 4, 2 then read 3", out, err)
	}
	out, _, _ = opsRun{}.run(t, socket, "inbox", "list", "--json")
	if err := json.Unmarshal([]byte(out), &ms); err != nil || len(ms) != 2 {
		t.Errorf("inbox list --json = %q (%v); want the 2 unread", out, err)
	}
	out, errOut, code := opsRun{}.run(t, socket, "inbox", "read", "2")
	if code != exitOK || out != "Message 2 marqué comme lu.\n" || len(d.read) != 1 || d.read[0] != 2 {
		t.Errorf("read: exit %d, out %q, stderr %q, read %v", code, out, errOut, d.read)
	}
	_, errOut, code = opsRun{}.run(t, socket, "inbox", "read", "99")
	if code != exitError || !strings.Contains(errOut, "message 99 introuvable") {
		t.Errorf("read 99: exit %d, stderr %q", code, errOut)
	}
}

func TestStatusWatch(t *testing.T) {
	d := &fakeDaemon{}
	for _, tty := range []bool{false, true} {
		ctx, interrupt := context.WithCancel(context.Background())
		var mu sync.Mutex
		n := 0
		// Each status the daemon serves counts; the third interrupts.
		watched := &statusCounter{fakeDaemon: d, hook: func() {
			mu.Lock()
			defer mu.Unlock()
			if n++; n == 3 {
				interrupt()
			}
		}}
		socket := serveFakeBackend(t, watched)
		out, errOut, code := opsRun{ctx: ctx, stdoutTTY: tty}.run(t, socket, "status", "--watch", "--interval", "1ms")
		interrupt()
		if code != exitOK {
			t.Fatalf("tty %v: exit %d: %s", tty, code, errOut)
		}
		screens := strings.Count(out, "Vigie 1.0 — CORG 71 test : prêt")
		if screens < 2 {
			t.Errorf("tty %v: %d screens, want 2 or more:\n%s", tty, screens, out)
		}
		if tty && (strings.Count(out, clearScreen) != screens || strings.Contains(out, "----")) {
			t.Errorf("terminal: want a clear before each screen, no separators:\n%q", out)
		}
		if !tty && (strings.Count(out, "----\n") != screens-1 || strings.Contains(out, "\033")) {
			t.Errorf("not a terminal: want screens separated by ----, no escapes:\n%q", out)
		}
	}
}

// statusCounter calls hook at each status request.
type statusCounter struct {
	*fakeDaemon
	hook func()
}

func (s *statusCounter) Status() (apitype.Status, error) {
	s.hook()
	return s.fakeDaemon.Status()
}

// serveFakeBackend serves b on a socket in a short directory (socket
// paths are limited to 108 bytes) and returns its path.
func serveFakeBackend(t *testing.T, b api.Backend) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "vigie-cli-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "s")
	l, err := api.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- api.New(b, nil).Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return path
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	text := "[station]\nname = \"x\"\n\n[[modem]]\nname = \"m1\"\ndevice = \"/dev/x\"\nrate_per_minute = -3\n\n[sms]\nmax_parts = 3\nunknown_key = 1\n"
	if err := os.WriteFile(bad, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cycle := filepath.Join(dir, "cycle.toml")
	text = "[[zone]]\nid = \"a\"\nname = \"A\"\naliases = [\"X\"]\n\n[[zone]]\nid = \"b\"\nname = \"B\"\naliases = [\"X\"]\n"
	if err := os.WriteFile(cycle, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		code       int
		out, err   []string
	}{
		{"reference", filepath.Join("..", "..", "configs", "vigie.toml"), exitOK, []string{"Configuration valide : "}, nil},
		{"bad values", bad, exitError, nil, []string{"Configuration invalide : 2 erreurs", bad + ":7: modem[0].rate_per_minute", bad + ":11: sms.unknown_key"}},
		{"ambiguous zones", cycle, exitError, nil, []string{"Configuration invalide", "X"}},
		{"missing", filepath.Join(dir, "absent.toml"), exitError, nil, []string{"Configuration invalide : 1 erreur", "absent.toml"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, "config", "check", "--config", c.path)
			if code != c.code {
				t.Errorf("exit %d, want %d; stdout %q, stderr %q", code, c.code, out, errOut)
			}
			for _, w := range c.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q: %q", w, out)
				}
			}
			for _, w := range c.err {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q: %q", w, errOut)
				}
			}
		})
	}
	out, _, code := runCLI(t, "config", "check", "--json", "--config", bad)
	var rep configCheck
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitError || rep.Valid || len(rep.Errors) != 2 || rep.Errors[0].Line != 7 || rep.Errors[0].Key != "modem[0].rate_per_minute" {
		t.Errorf("config check --json: exit %d, %+v (%v)", code, rep, err)
	}
}

// The form's answers are typed by a person: whatever they are, the text is
// valid UTF-8, has no line break, and is empty only when every answer is.
func FuzzComposeAlert(f *testing.F) {
	f.Add("vol à l'étalage", "rue Carnot", "ce jour vers 15h", "homme 30 ans, veste rouge", "appelez le 17")
	f.Add("", "", "", "", "")
	f.Add(".", ";", ",", " : ", "!")
	f.Add("\xff", "é", "\u2026", "?", "\t")
	f.Fuzz(func(t *testing.T, what, where, when, suspect, advice string) {
		// Answers are read line by line, trimmed: no newline inside.
		clean := func(s string) string {
			return strings.TrimSpace(strings.ReplaceAll(strings.ToValidUTF8(s, ""), "\n", " "))
		}
		f := alertForm{clean(what), clean(where), clean(when), clean(suspect), clean(advice)}
		got := f.compose()
		if !utf8.ValidString(got) || strings.Contains(got, "\n") {
			t.Errorf("compose(%+v) = %q", f, got)
		}
		if strings.Trim(f.what+f.where+f.when+f.suspect+f.advice, " .;,:") != "" && got == "" {
			t.Errorf("compose(%+v) is empty", f)
		}
	})
}

// Ctrl-C at the confirmation question abandons at once: nothing is sent,
// the CLI does not wait for Enter.
func TestCtrlCAtTheQuestion(t *testing.T) {
	d := &fakeDaemon{}
	socket := serveFake(t, d)
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe() // a terminal where nobody types
	defer w.Close()
	var out, errOut bytes.Buffer
	g := &globalOptions{stdout: &out, stderr: &errOut, stdin: r, stdinTTY: true}
	root := newRootCommand(g)
	root.SetArgs([]string{"--socket", socket, "alert", "send", "--zone", "macon", "vol"})
	done := make(chan int, 1)
	go func() { done <- report(g.stderr, root.ExecuteContext(ctx)) }()
	deadline := time.Now().Add(10 * time.Second)
	for d.previewCount() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no preview asked")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel() // what SIGINT does through signal.NotifyContext
	select {
	case code := <-done:
		if code != exitError || !strings.Contains(errOut.String(), "interrompu : rien n'a été envoyé") {
			t.Errorf("exit %d, stderr %q", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Ctrl-C at the question was ignored")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.sent) != 0 {
		t.Errorf("sent %v after Ctrl-C", d.sent)
	}
}

// A script that forgot --yes gets a usage error, not a silent exit 0.
func TestNoAnswerToTheQuestionIsAnError(t *testing.T) {
	d := &fakeDaemon{}
	socket := serveFake(t, d)
	_, errOut, code := opsRun{}.run(t, socket, "alert", "send", "--zone", "macon", "texte")
	if code != exitUsage || !strings.Contains(errOut, "pas de réponse à la confirmation") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.sent) != 0 {
		t.Errorf("sent %v without an answer", d.sent)
	}
}
