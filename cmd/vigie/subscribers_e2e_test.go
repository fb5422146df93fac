//go:build e2e

package main

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"vigie/gateway/apitype"
)

// importFile imports testdata/adherents-cp1252.csv (Windows-1252, `;`, a
// French header without BOM, four broken rows) with the default zone macon.
func (e *env) importFile(extra ...string) apitype.ImportReport {
	e.t.Helper()
	args := append([]string{"subscribers", "import", "testdata/adherents-cp1252.csv", "--zone", "macon", "--json"}, extra...)
	var rep apitype.ImportReport
	if out := e.mustVigie(args...); json.Unmarshal(out, &rep) != nil {
		e.t.Fatalf("import output %q", out)
	}
	return rep
}

// importOutcomes summarises a report as "line:outcome[:reason]".
func importOutcomes(rep apitype.ImportReport) []string {
	var out []string
	for _, r := range rep.Rows {
		s := r.Outcome
		if r.Reason != "" {
			s += ":" + r.Reason
		}
		out = append(out, strconv.Itoa(r.Line)+":"+s)
	}
	return out
}

func (e *env) listSubscribers(args ...string) []apitype.Subscriber {
	e.t.Helper()
	var subs []apitype.Subscriber
	if out := e.mustVigie(append([]string{"subscribers", "list", "--json"}, args...)...); json.Unmarshal(out, &subs) != nil {
		e.t.Fatalf("list output %q", out)
	}
	return subs
}

func subscriberPhones(subs []apitype.Subscriber) []string {
	var out []string
	for _, s := range subs {
		out = append(out, s.Phone)
	}
	return out
}

func TestSubscribersImportAddErase(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{transliterate: true})
	const alice = "+33611111111"
	broken := []string{"6:rejected:not_mobile", "7:rejected:unknown_zone", "8:rejected:missing_phone", "9:rejected:invalid_phone"}
	first := append([]string{"2:added", "3:added", "4:added", "5:added"}, broken...)

	// A dry run says exactly what the import will do, and does nothing.
	rep := e.importFile("--dry-run")
	if got := importOutcomes(rep); !slices.Equal(got, first) || !rep.DryRun || rep.Encoding != "windows-1252" || rep.Separator != ";" {
		t.Fatalf("dry run: %v (%s, %q), want %v", got, rep.Encoding, rep.Separator, first)
	}
	if subs := e.listSubscribers(); len(subs) != 0 {
		t.Fatalf("dry run subscribed %v", subscriberPhones(subs))
	}

	rep = e.importFile()
	if got := importOutcomes(rep); !slices.Equal(got, first) || rep.Added != 4 || rep.Rejected != 4 {
		t.Fatalf("import: %v, want %v", got, first)
	}
	want := []string{alice, "+33622222222", "+33633333333", "+33644444444"}
	subs := e.listSubscribers()
	if !slices.Equal(subscriberPhones(subs), want) || !slices.Equal(subs[3].Zones, []string{"macon"}) || subs[0].Source != "import" {
		t.Fatalf("after import: %+v", subs)
	}
	if rej := rep.Rows[5]; rej.Column != "Quartier" || rej.Value != "Tournus" || !strings.Contains(rej.Message, "zone inconnue") {
		t.Errorf("rejected row 7 = %+v, want column Quartier, value Tournus", rej)
	}

	// The same file again changes nothing.
	again := append([]string{"2:skipped:unchanged", "3:skipped:unchanged", "4:skipped:unchanged", "5:skipped:unchanged"}, broken...)
	if got := importOutcomes(e.importFile()); !slices.Equal(got, again) {
		t.Fatalf("second import: %v, want %v", got, again)
	}

	// The French text report.
	out := string(e.mustVigie("subscribers", "import", "testdata/adherents-cp1252.csv", "--zone", "macon"))
	for _, w := range []string{"windows-1252", "Téléphone → téléphone", "Enseigne → nom du commerce", "Remarque → ignorée", "ligne 7", "colonne « Quartier »", "Bilan : 0 ajouté, 0 mis à jour, 4 ignorés, 4 rejetés."} {
		if !strings.Contains(out, w) {
			t.Errorf("import report lacks %q:\n%s", w, out)
		}
	}

	// An operator adds a shop by the zone's name.
	var added apitype.AddSubscriberResult
	if err := json.Unmarshal(e.mustVigie("abonnes", "add", "06 77 77 77 77", "--zone", "Mâcon nord", "--json"), &added); err != nil || added.Outcome != "added" {
		t.Fatalf("add: %+v, %v", added, err)
	}
	if got := subscriberPhones(e.listSubscribers("--zone", "macon-nord")); !slices.Equal(got, []string{"+33622222222", "+33677777777"}) {
		t.Errorf("list --zone macon-nord = %v", got)
	}

	// alice sends STOP: an operator cannot add her back without --force.
	e.exchange(alice, "STOP", 1)
	var d apitype.SubscriberDetail
	if err := json.Unmarshal(e.mustVigie("subscribers", "show", "06 11 11 11 11", "--json"), &d); err != nil || d.Status != "stopped" || !d.Suppressed {
		t.Fatalf("show after STOP: %+v, %v", d, err)
	}
	if _, errb, code := e.vigie("subscribers", "add", "0611111111", "--zone", "macon"); code != 1 || !strings.Contains(string(errb), "--force") {
		t.Errorf("add after STOP: exit %d, %q; want 1 and a hint at --force", code, errb)
	}

	// Erased: nothing of her stays but the keyed hash, which the next import honours.
	var rm apitype.RemoveSubscriberResult
	if err := json.Unmarshal(e.mustVigie("subscribers", "remove", "--erase", "--yes", alice, "--json"), &rm); err != nil || !rm.Erased || rm.Inbound != 1 {
		t.Fatalf("remove --erase: %+v, %v", rm, err)
	}
	if err := json.Unmarshal(e.mustVigie("subscribers", "show", alice, "--json"), &d); err != nil || d.Status != "" || !d.Suppressed {
		t.Errorf("show after erase: %+v, %v; want no record, suppressed", d, err)
	}
	if slices.Contains(subscriberPhones(e.listSubscribers()), alice) {
		t.Errorf("erased number still listed")
	}
	third := append([]string{"2:skipped:suppressed", "3:skipped:unchanged", "4:skipped:unchanged", "5:skipped:unchanged"}, broken...)
	if got := importOutcomes(e.importFile()); !slices.Equal(got, third) {
		t.Errorf("import after erase: %v, want %v", got, third)
	}

	// A plain remove unsubscribes without suppression.
	e.mustVigie("subscribers", "remove", "0622222222")
	if err := json.Unmarshal(e.mustVigie("subscribers", "show", "0622222222", "--json"), &d); err != nil || d.Status != "stopped" || d.Suppressed {
		t.Errorf("show after remove: %+v, %v", d, err)
	}

	export := string(e.mustVigie("subscribers", "export"))
	if !strings.HasPrefix(export, "\uFEFFtéléphone;zones;métier") || strings.Contains(export, "611111111") ||
		!strings.Contains(export, "+33677777777;macon-nord;") || strings.Count(export, "\r\n") != 4 {
		t.Errorf("export:\n%s", export)
	}
}
