package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/gateway/api"
	"vigie/gateway/apitype"
)

// auditDaemon is a daemon whose audit log holds recs and verifies as check.
type auditDaemon struct {
	api.Backend // nil: what these tests do not call
	recs        []apitype.AuditRecord
	check       apitype.AuditCheck
	since       time.Time
}

func (d *auditDaemon) Audit(since time.Time) ([]apitype.AuditRecord, error) {
	d.since = since
	return d.recs, nil
}

func (d *auditDaemon) VerifyAudit() (apitype.AuditCheck, error) { return d.check, nil }

// Zones names the zones the sentences speak of.
func (d *auditDaemon) Zones() (apitype.Zones, error) {
	return apitype.Zones{Zones: []apitype.Zone{{ID: "macon", Name: "Mâcon"}, {ID: "charnay", Name: "Charnay-lès-Mâcon"}}}, nil
}

// Every change the daemon records reads as a sentence: who did what.
func TestAuditSentences(t *testing.T) {
	names := map[string]string{"macon": "Mâcon", "charnay": "Charnay-lès-Mâcon"}
	for _, c := range []struct {
		rec  apitype.AuditRecord
		want string
	}{
		{apitype.AuditRecord{User: "dupont", Action: "POST /v1/alerts", Request: `{"zones":["macon"],"text":"vol"}`, Result: `id=12 category="vol" recipients=40 zones=[1]`},
			"dupont a envoyé l'alerte 12 à Mâcon (40 commerçants)"},
		{apitype.AuditRecord{User: "dupont", Action: "POST /v1/alerts", Request: `{"zones":["macon","charnay","cluny"],"trades":["tabac"],"text":"vol"}`, Result: "id=13 recipients=1"},
			"dupont a envoyé l'alerte 13 à Mâcon, Charnay-lès-Mâcon et cluny, métiers tabac (1 commerçant)"},
		{apitype.AuditRecord{User: "dupont", Action: "POST /v1/alerts", Request: `{"all":true,"text":"vol"}`, Result: "id=14 recipients=300"},
			"dupont a envoyé l'alerte 14 à tous les abonnés (300 commerçants)"},
		{apitype.AuditRecord{User: "dupont", Action: "POST /v1/alerts/{id}/followup", Target: "12", Result: "id=15 recipients=38"},
			"dupont a envoyé la suite 15 de l'alerte 12 (38 commerçants)"},
		{apitype.AuditRecord{User: "cci", Action: "POST /v1/alerts/{id}/cancel", Target: "12", Result: "cancelled=1"},
			"cci a annulé l'alerte 12 (1 SMS annulé)"},
		{apitype.AuditRecord{User: "cci", Action: "POST /v1/alerts/{id}/cancel", Target: "12", Result: "cancelled=0"},
			"cci a voulu annuler l'alerte 12 : rien à annuler"},
		{apitype.AuditRecord{User: "tech", Action: "POST /v1/alerts/test", Request: `{"to":"+33*******78"}`, Result: "id=3"},
			"tech a envoyé un SMS de test au +33*******78"},
		{apitype.AuditRecord{User: "cci", Action: "POST /v1/inbox/{id}/read", Target: "7"}, "cci a lu le message 7"},
		{apitype.AuditRecord{User: "cci", Action: "POST /v1/subscribers", Request: `{"phone":"+33*******78","zones":["charnay"]}`},
			"cci a inscrit +33*******78 à Charnay-lès-Mâcon"},
		{apitype.AuditRecord{User: "cci", Action: "POST /v1/subscribers/import", Request: `{"data":"fichier de 120 octets"}`}, "cci a importé des abonnés"},
		{apitype.AuditRecord{User: "cci", Action: "POST /v1/subscribers/{phone}/approve", Target: "+33 6 ** ** ** 78"},
			"cci a validé l'inscription du +33 6 ** ** ** 78"},
		{apitype.AuditRecord{User: "cci", Action: "POST /v1/subscribers/{phone}/remove", Target: "+33 6 ** ** ** 78", Request: `{"erase":true}`},
			"cci a désinscrit le +33 6 ** ** ** 78 et effacé ses données"},
		{apitype.AuditRecord{User: "cci", Action: "POST /v1/subscribers/{phone}/remove", Target: "+33 6 ** ** ** 78"},
			"cci a désinscrit le +33 6 ** ** ** 78"},
		{apitype.AuditRecord{User: "sms", Action: "SMS subscribed", Target: "+33 6 ** ** ** 78"}, "le +33 6 ** ** ** 78 s'est inscrit par SMS"},
		{apitype.AuditRecord{User: "sms", Action: "SMS subscribe-confirm", Target: "+33 6 ** ** ** 78"},
			"le +33 6 ** ** ** 78 a demandé son inscription par SMS (code de confirmation envoyé)"},
		{apitype.AuditRecord{User: "sms", Action: "SMS subscribe-pending", Target: "+33 6 ** ** ** 78"},
			"le +33 6 ** ** ** 78 a demandé son inscription par SMS (à valider : vigie subscribers approve)"},
		{apitype.AuditRecord{User: "sms", Action: "SMS stopped", Target: "+33 6 ** ** ** 78"}, "le +33 6 ** ** ** 78 s'est désinscrit par SMS (STOP)"},
		{apitype.AuditRecord{User: "sms", Action: "SMS code-voided", Label: "demande d'inscription par SMS annulée après 5 codes erronés", Target: "+33 6 ** ** ** 78"},
			"le +33 6 ** ** ** 78 : demande d'inscription par SMS annulée après 5 codes erronés"},
		{apitype.AuditRecord{User: "root", Action: "PUT /v1/zones/{id}", Label: "modification (zones)", Target: "macon"}, "root : modification (zones) macon"},
		// A name that tries to act on the terminal is shown inert.
		{apitype.AuditRecord{User: "x\x1b]0;pwned\x07", Action: "POST /v1/inbox/{id}/read", Target: "7"}, `x\u001b]0;pwned\u0007 a lu le message 7`},
	} {
		if got := auditSentence(c.rec, names); got != c.want {
			t.Errorf("%s %s:\n got %q\nwant %q", c.rec.Action, c.rec.Result, got, c.want)
		}
	}
}

// The year is said only when it is not this one.
func TestAuditWhen(t *testing.T) {
	now := time.Date(2026, 12, 3, 15, 0, 0, 0, time.Local)
	if got := auditWhen(time.Date(2026, 12, 3, 14, 5, 0, 0, time.Local), now); got != "03/12 14:05" {
		t.Errorf("this year: %q", got)
	}
	if got := auditWhen(time.Date(2025, 12, 31, 23, 59, 0, 0, time.Local), now); got != "31/12/2025 23:59" {
		t.Errorf("last year: %q", got)
	}
}

// serveAudit serves d on a socket and returns the CLI's --socket flag.
func serveAudit(t *testing.T, d *auditDaemon) string {
	t.Helper()
	return "--socket=" + serveFakeBackend(t, d)
}

func TestAuditCommand(t *testing.T) {
	at := time.Date(time.Now().Year(), 3, 14, 9, 30, 0, 0, time.Local) // this year: dated without it
	d := &auditDaemon{recs: []apitype.AuditRecord{
		{Seq: 1, Time: at, User: "gendarme", UID: 1001, Action: "POST /v1/alerts", Label: "envoi d'alerte",
			Request: `{"zones":["macon"],"text":"vol"}`, Result: "id=4 recipients=12"},
		{Seq: 2, Time: at.Add(time.Minute), User: "cci", UID: 1002, Action: "POST /v1/alerts/{id}/cancel",
			Label: "annulation d'alerte", Target: "4", Result: "cancelled=3"},
	}}
	sock := serveAudit(t, d)

	out, errb, code := runCLI(t, sock, "audit")
	want := "14/03 09:30 — gendarme a envoyé l'alerte 4 à Mâcon (12 commerçants)\n" +
		"14/03 09:31 — cci a annulé l'alerte 4 (3 SMS annulés)\n" +
		"Détails (requête, réponse, empreintes) : vigie audit --json\n"
	if code != 0 || out != want {
		t.Errorf("vigie audit: exit %d, stderr %q, stdout\n%s\nwant\n%s", code, errb, out, want)
	}

	out, _, code = runCLI(t, sock, "audit", "--json", "--since", "2026-03-14 09:00")
	var recs []apitype.AuditRecord
	if err := json.Unmarshal([]byte(out), &recs); code != 0 || err != nil || len(recs) != 2 || recs[1].Target != "4" {
		t.Errorf("vigie audit --json: exit %d, %v, %s", code, err, out)
	}
	if !d.since.Equal(time.Date(2026, 3, 14, 9, 0, 0, 0, time.Local)) {
		t.Errorf("--since sent %v, want 14/03/2026 09:00 local", d.since)
	}
	if _, errb, code := runCLI(t, sock, "audit", "--since", "hier"); code != exitUsage || !strings.Contains(errb, "date invalide") {
		t.Errorf("--since hier: exit %d, stderr %q; want 2", code, errb)
	}

	d.recs = nil
	if out, _, _ := runCLI(t, sock, "audit", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("empty audit --json = %q, want []", out)
	}
	if out, _, _ := runCLI(t, sock, "audit"); out != "Aucun enregistrement dans le journal d'audit.\n" {
		t.Errorf("empty audit = %q", out)
	}
}

func TestAuditVerifyCommand(t *testing.T) {
	purged := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	when := purged.Local().Format("02/01/2006 à 15:04")
	for _, tc := range []struct {
		check apitype.AuditCheck
		code  int
		out   string
	}{
		{apitype.AuditCheck{Records: 12, OK: true}, 0, "journal intègre : 12 enregistrements\n"},
		{apitype.AuditCheck{Records: 5, Broken: 5, Reason: "edited"}, 1, "journal altéré : l'enregistrement n°5 a été modifié\n"},
		{apitype.AuditCheck{Records: 2, Broken: 3, Reason: "missing"}, 1, "journal altéré : l'enregistrement n°3 a été supprimé\n"},
		{apitype.AuditCheck{Records: 12, OK: true, From: 41, PurgedThrough: purged}, 0, "journal intègre : 12 enregistrements\n" +
			"Les enregistrements n°1 à n°40, jusqu'au " + when + ", ont été purgés par la rétention ([retention] months) ; la vérification part du n°41.\n"},
		{apitype.AuditCheck{Records: 1, OK: true, From: 2, PurgedThrough: purged}, 0, "journal intègre : 1 enregistrement\n" +
			"L'enregistrement n°1, du " + when + ", a été purgé par la rétention ([retention] months) ; la vérification part du n°2.\n"},
		{apitype.AuditCheck{Records: 0, OK: true, From: 8, PurgedThrough: purged}, 0, "journal intègre : 0 enregistrement\n" +
			"Les enregistrements n°1 à n°7, jusqu'au " + when + ", ont été purgés par la rétention ([retention] months) ; la vérification part du n°8.\n"},
		{apitype.AuditCheck{Records: 3, From: 41, PurgedThrough: purged, Broken: 42, Reason: "edited"}, 1, "journal altéré : l'enregistrement n°42 a été modifié\n" +
			"Les enregistrements n°1 à n°40, jusqu'au " + when + ", ont été purgés par la rétention ([retention] months) ; la vérification part du n°41.\n"},
	} {
		sock := serveAudit(t, &auditDaemon{check: tc.check})
		out, errb, code := runCLI(t, sock, "audit", "verify")
		if code != tc.code || out != tc.out || errb != "" {
			t.Errorf("verify of %+v: exit %d, stdout %q, stderr %q; want %d, %q", tc.check, code, out, errb, tc.code, tc.out)
		}
		out, _, code = runCLI(t, sock, "audit", "verify", "--json")
		var got apitype.AuditCheck
		if err := json.Unmarshal([]byte(out), &got); err != nil || got != tc.check || code != tc.code {
			t.Errorf("verify --json of %+v: exit %d, %s", tc.check, code, out)
		}
	}
	if _, _, code := runCLI(t, "--socket="+filepath.Join(t.TempDir(), "none.sock"), "audit", "verify"); code != exitUnreachable {
		t.Errorf("verify without daemon: exit %d, want 3", code)
	}
}

// FuzzAuditSentence: whatever a record's summaries hold (cut short,
// hostile, not JSON), the sentence is one line with nothing that acts on a
// terminal, and reading the fields never panics.
func FuzzAuditSentence(f *testing.F) {
	f.Add("POST /v1/alerts", `{"zones":["macon"],"text":"vol"}`, `id=12 category="vol" recipients=40 zones=[1]`)
	f.Add("POST /v1/alerts/{id}/cancel", "", "cancelled=0")
	f.Add("POST /v1/subscribers", `{"phone":"+33*******78","zones":["charnay"]}`, `phone="+33*******78" status="active"`)
	f.Add("POST /v1/alerts", `{"zones":["a\nb"],"all":true`, `id="unterminated recipients=x`)
	f.Add("SMS stopped", "SMS 4", `a="\x1b[2J" b=`)
	f.Fuzz(func(t *testing.T, action, request, result string) {
		fields := auditFields(result)
		for k := range fields {
			if strings.ContainsAny(k, " \"") {
				t.Fatalf("key %q from %q", k, result)
			}
		}
		s := auditSentence(apitype.AuditRecord{User: "u", Action: action, Target: "7", Request: request, Result: result},
			map[string]string{"macon": "Mâcon"})
		for _, r := range s {
			if r == '\n' || unsafeRune(r) {
				t.Fatalf("sentence %q holds %U", s, r)
			}
		}
	})
}
