package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"vigie/gateway/api"
	"vigie/gateway/apitype"
	"vigie/gateway/csvimport"
)

// subscribersFake is the daemon's subscriber API, recording what the CLI
// asked.
type subscribersFake struct {
	api.Backend // nil: parts these tests do not call
	filter      apitype.SubscriberFilter
	add         apitype.AddSubscriberRequest
	removed     string
	erase       bool
	imported    apitype.ImportRequest
}

var fakeSubscribers = []apitype.Subscriber{
	{Phone: "+33611111111", Zones: []string{"macon", "macon-centre"}, Trade: "tabac-presse", Status: "active", Source: "import",
		CreatedAt: time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC), Name: "=Tabac du Centre"},
	{Phone: "+33622222222", Zones: []string{"charnay"}, Status: "active", Source: "sms"},
}

func (f *subscribersFake) ListSubscribers(flt apitype.SubscriberFilter) ([]apitype.Subscriber, error) {
	f.filter = flt
	return fakeSubscribers, nil
}

func (f *subscribersFake) AddSubscriber(_ context.Context, req apitype.AddSubscriberRequest, _ string) (apitype.AddSubscriberResult, error) {
	f.add = req
	if !req.Force {
		return apitype.AddSubscriberResult{}, &apitype.UserError{Kind: apitype.RefuseConflict, Message: "+33611111111 a envoyé STOP"}
	}
	return apitype.AddSubscriberResult{Outcome: "added", Subscriber: apitype.Subscriber{Phone: "+33611111111", Zones: req.Zones}}, nil
}

func (f *subscribersFake) RemoveSubscriber(_ context.Context, number string, erase bool, _ string) (apitype.RemoveSubscriberResult, error) {
	f.removed, f.erase = number, erase
	return apitype.RemoveSubscriberResult{Phone: "+33611111111", Erased: erase}, nil
}

func (f *subscribersFake) ImportSubscribers(_ context.Context, req apitype.ImportRequest, _ string) (apitype.ImportReport, error) {
	f.imported = req
	return apitype.ImportReport{DryRun: req.DryRun, ReplaceZones: req.ReplaceZones, Encoding: "windows-1252", Separator: ";", Added: 1, Rejected: 1,
		Columns: []apitype.ImportColumn{{Name: "Téléphone", Field: "phone"}, {Name: "Nom", Field: "name"}},
		Rows: []apitype.ImportRow{
			{Line: 2, Phone: "+33611111111", Zones: []string{"macon"}, Outcome: "added"},
			{Line: 3, Outcome: "rejected", Reason: "invalid_phone", Column: "Téléphone", Value: "12", Message: `numéro invalide : "12"`},
		}}, nil
}

// serveSubscribersFake serves b on a socket and returns the --socket flag for it.
func serveSubscribersFake(t *testing.T, b api.Backend) string {
	t.Helper()
	return "--socket=" + serveFakeBackend(t, b)
}

func TestSubscribersUsage(t *testing.T) {
	absent := "--socket=" + filepath.Join(t.TempDir(), "absent.sock")
	for _, args := range [][]string{
		{"subscribers", "list", "--status", "asleep"},
		{"subscribers", "list", "extra"},
		{"abonnes", "add", "0611111111"}, // no --zone
		{"subscribers", "show"},
		{"subscribers", "approve", "a", "b"},
		{"subscribers", "remove", "--erase"},
		{"subscribers", "import"},
		{"subscribers", "import", "f.csv", "--dry-run=peut-être"},
		{"subscribers", "export", "a.csv", "b.csv"},
	} {
		// Usage errors are caught before the (absent) daemon is called.
		if _, _, code := runCLI(t, append([]string{absent}, args...)...); code != exitUsage {
			t.Errorf("vigie %s: exit %d, want %d", strings.Join(args, " "), code, exitUsage)
		}
	}
	if _, stderr, code := runCLI(t, absent, "subscribers", "list"); code != exitUnreachable || !strings.Contains(stderr, "ne répond pas") {
		t.Errorf("list without daemon: exit %d, %q", code, stderr)
	}
}

func TestSubscribersCommands(t *testing.T) {
	f := &subscribersFake{}
	sock := serveSubscribersFake(t, f)

	out, _, code := runCLI(t, sock, "abonnes", "list", "--zone", "Mâcon", "--trade", "tabac", "--status", "active", "--json")
	var subs []apitype.Subscriber
	if code != 0 || json.Unmarshal([]byte(out), &subs) != nil || len(subs) != 2 {
		t.Errorf("list --json: exit %d, %q", code, out)
	}
	if want := (apitype.SubscriberFilter{Zone: "Mâcon", Trade: "tabac", Status: "active"}); f.filter != want {
		t.Errorf("filter %+v, want %+v", f.filter, want)
	}
	out, _, _ = runCLI(t, sock, "subscribers", "list")
	if !strings.Contains(out, "+33611111111") || !strings.Contains(out, "actif") || !strings.Contains(out, "2 abonnés") {
		t.Errorf("list shows numbers in full, in French:\n%s", out)
	}

	_, stderr, code := runCLI(t, sock, "subscribers", "add", "06 11 11 11 11", "--zone", "macon", "--zone", "charnay", "--trade", "tabac")
	if code != exitError || !strings.Contains(stderr, "a envoyé STOP") {
		t.Errorf("add a STOPped number: exit %d, %q", code, stderr)
	}
	out, _, code = runCLI(t, sock, "subscribers", "add", "06 11 11 11 11", "--zone", "macon,charnay", "--trade", "tabac", "--force")
	want := apitype.AddSubscriberRequest{Phone: "06 11 11 11 11", Zones: []string{"macon", "charnay"}, Trade: "tabac", Force: true}
	if code != 0 || !slices.Equal(f.add.Zones, want.Zones) || f.add.Phone != want.Phone || f.add.Trade != want.Trade || !f.add.Force {
		t.Errorf("add --force: exit %d, request %+v, want %+v", code, f.add, want)
	}
	if !strings.Contains(out, "inscrit") {
		t.Errorf("add output %q", out)
	}

	if _, _, code := runCLI(t, sock, "subscribers", "remove", "--erase", "--yes", "+33 6 11 11 11 11"); code != 0 || f.removed != "+33 6 11 11 11 11" || !f.erase {
		t.Errorf("remove --erase: exit %d, %q erase %v", code, f.removed, f.erase)
	}
	if _, _, code := runCLI(t, sock, "subscribers", "remove", "0611111111"); code != 0 || f.erase {
		t.Errorf("remove: exit %d, erase %v", code, f.erase)
	}

	file := filepath.Join(t.TempDir(), "adherents.csv")
	data := []byte("T\xe9l\xe9phone;Nom\n0611111111;Tabac\n12;X\n")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code = runCLI(t, sock, "subscribers", "import", file, "--dry-run", "--zone", "macon")
	if code != 0 || string(f.imported.Data) != string(data) || !f.imported.DryRun || f.imported.DefaultZone != "macon" {
		t.Errorf("import: exit %d, request %+v", code, f.imported)
	}
	for _, want := range []string{"windows-1252", "Nom → nom du commerce", "ligne 2    ajouté     +33611111111 : zone macon", "ligne 2", "ajouté", "ligne 3", "rejeté", "colonne « Téléphone »", "1 ajouté,", "1 rejeté.", "rien n'a été modifié",
		"Zones : celles du fichier s'ajoutent à celles des abonnés (--replace-zones pour les remplacer)."} {
		if !strings.Contains(out, want) {
			t.Errorf("import report lacks %q:\n%s", want, out)
		}
	}
	if f.imported.ReplaceZones {
		t.Error("import without --replace-zones asked to replace zones")
	}
	out, _, code = runCLI(t, sock, "subscribers", "import", file, "--replace-zones")
	if code != 0 || !f.imported.ReplaceZones || f.imported.DryRun ||
		!strings.Contains(out, "Zones : celles du fichier remplacent celles des abonnés (--replace-zones).") {
		t.Errorf("import --replace-zones: exit %d, request %+v\n%s", code, f.imported, out)
	}
	if _, stderr, code := runCLI(t, sock, "subscribers", "import", filepath.Join(t.TempDir(), "absent.csv")); code != exitError || !strings.Contains(stderr, "absent.csv") {
		t.Errorf("import a missing file: exit %d, %q", code, stderr)
	}
}

func TestSubscribersExportReimports(t *testing.T) {
	f := &subscribersFake{}
	sock := serveSubscribersFake(t, f)
	path := filepath.Join(t.TempDir(), "export.csv")
	if _, stderr, code := runCLI(t, sock, "subscribers", "export", path); code != 0 {
		t.Fatalf("export: exit %d, %s", code, stderr)
	}
	if f.filter.Status != "active" {
		t.Errorf("export asked for %+v, want the active subscribers", f.filter)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v, mode %v; want 0600 (personal data)", err, fi.Mode())
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "\uFEFFtéléphone;zones;métier;") {
		t.Errorf("export starts %q, want a BOM and the French header", data[:40])
	}
	res, err := csvimport.Parse(data, csvimport.Options{})
	if err != nil || len(res.Rejected) != 0 || len(res.Rows) != len(fakeSubscribers) {
		t.Fatalf("re-reading the export: %+v, %v", res, err)
	}
	for i, r := range res.Rows {
		s := fakeSubscribers[i]
		if r.Phone != s.Phone || !slices.Equal(r.Zones, s.Zones) || r.Trade != s.Trade || r.Name != s.Name {
			t.Errorf("row %d reads back %+v, exported %+v", i, r, s)
		}
	}
	if !strings.Contains(string(data), ";'=Tabac du Centre\r\n") {
		t.Errorf("a name that starts a formula is exported as is: %q", data)
	}
	out, _, code := runCLI(t, sock, "subscribers", "export")
	if code != 0 || out != string(data) {
		t.Errorf("export to stdout differs from the file")
	}
}
