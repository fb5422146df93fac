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

// serveAudit serves d on a socket and returns the CLI's --socket flag.
func serveAudit(t *testing.T, d *auditDaemon) string {
	t.Helper()
	return "--socket=" + serveFakeBackend(t, d)
}

func TestAuditCommand(t *testing.T) {
	at := time.Date(2026, 3, 14, 9, 30, 0, 0, time.Local)
	d := &auditDaemon{recs: []apitype.AuditRecord{
		{Seq: 1, Time: at, User: "gendarme", UID: 1001, Action: "POST /v1/alerts", Label: "envoi d'alerte",
			Request: `{"zones":["macon"],"text":"vol"}`, Result: "id=4 recipients=12"},
		{Seq: 2, Time: at.Add(time.Minute), User: "cci", UID: 1002, Action: "POST /v1/alerts/{id}/cancel",
			Label: "annulation d'alerte", Target: "4", Result: "cancelled=3"},
	}}
	sock := serveAudit(t, d)

	out, errb, code := runCLI(t, sock, "audit")
	want := "#1  14/03/2026 09:30:00  gendarme (uid 1001)  envoi d'alerte → id=4 recipients=12  requête : {\"zones\":[\"macon\"],\"text\":\"vol\"}\n" +
		"#2  14/03/2026 09:31:00  cci (uid 1002)  annulation d'alerte 4 → cancelled=3\n"
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
	for _, tc := range []struct {
		check apitype.AuditCheck
		code  int
		out   string
	}{
		{apitype.AuditCheck{Records: 12, OK: true}, 0, "journal intègre : 12 enregistrements\n"},
		{apitype.AuditCheck{Records: 5, Broken: 5, Reason: "edited"}, 1, "journal altéré : l'enregistrement n°5 a été modifié\n"},
		{apitype.AuditCheck{Records: 2, Broken: 3, Reason: "missing"}, 1, "journal altéré : l'enregistrement n°3 a été supprimé\n"},
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
