//go:build e2e

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"vigie/gateway/apitype"
)

// TestSuggestE2E: the real CLI and daemon answer typos with the word that
// was meant — a command, a subcommand before an option, a zone — and a
// shop's misspelt INSCRIPTION by SMS is understood, while a text that only
// looks like STOP unsubscribes nobody and says how to.
func TestSuggestE2E(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{transliterate: true})

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"alret", "list"}, exitUsage, "vigie : commande inconnue « alret » pour « vigie ». Vouliez-vous dire « alert » ?\n(voir vigie --help)\n"},
		{[]string{"alert", "sned", "--zone", "macon", "x"}, exitUsage, "vigie : sous-commande inconnue « sned » pour « vigie alert ». Vouliez-vous dire « send » ?\n(voir vigie alert --help)\n"},
		{[]string{"alert", "send", "--yes", "--zone", "macn", "vol rue Carnot"}, exitError, "vigie : zone inconnue « macn » ; vouliez-vous dire « macon » (Mâcon) ?\n"},
		{[]string{"alert", "preview", "--zone", "atlantide", "vol rue Carnot"}, exitError, "vigie : zone inconnue « atlantide » (voir « vigie zones »)\n"},
		{[]string{"subscribers", "list", "--zone", "macon-nrod"}, exitError, "vigie : zone inconnue « macon-nrod » ; vouliez-vous dire « macon-nord » (Mâcon nord) ?\n"},
	} {
		out, errb, code := e.vigie(c.args...)
		if code != c.code || string(errb) != c.want || len(out) != 0 {
			t.Errorf("vigie %s: exit %d, stdout %q, stderr\n%q\nwant exit %d and\n%q", strings.Join(c.args, " "), code, out, errb, c.code, c.want)
		}
	}

	// By SMS: the typo is understood, the shop subscribed.
	const shop, other = "+33611111111", "+33622222222"
	if r := e.exchange(shop, "INSCRIPTON macon", 1); !strings.Contains(r.Text, "inscription enregistr") || !strings.Contains(r.Text, "Macon") {
		t.Errorf("reply to « INSCRIPTON macon » = %q, want the subscription to Mâcon confirmed", r.Text)
	}
	// A text that looks like STOP is forwarded, stops nothing, and says
	// the spelling.
	e.exchange(other, "INSCRIPTION macon", 1)
	want := "Vigilance commerce : message transmis à la gendarmerie. Aucune désinscription faite : pour ne plus recevoir d'alertes, écrivez STOP seul."
	if r := e.exchange(other, "STOPP merci", 2); r.Text != want {
		t.Errorf("reply to « STOPP merci » = %q, want %q", r.Text, want)
	}
	var subs []apitype.Subscriber
	if err := json.Unmarshal(e.mustVigie("subscribers", "list", "--json"), &subs); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, s := range subs {
		status[s.Phone] = s.Status + " " + strings.Join(s.Zones, ",")
	}
	if status[shop] != "active macon" || status[other] != "active macon" {
		t.Errorf("subscribers = %v, want both active in macon", status)
	}
}
