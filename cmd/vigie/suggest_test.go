package main

import (
	"testing"
)

// TestSuggestions pins, as the operator reads them, the answers to a
// misspelt command, subcommand or option: what is wrong, the likely word,
// whose help to read; exit 2 and nothing asked of the daemon.
func TestSuggestions(t *testing.T) {
	d := &fakeDaemon{}
	socket := serveFake(t, d)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"alret", "list"}, "vigie : commande inconnue « alret » pour « vigie ». Vouliez-vous dire « alert » ?\n(voir vigie --help)\n"},
		{[]string{"alertes"}, "vigie : commande inconnue « alertes » pour « vigie ». Vouliez-vous dire « alerte » ?\n(voir vigie --help)\n"},
		{[]string{"zzz"}, "vigie : commande inconnue « zzz » pour « vigie »\n(voir vigie --help)\n"},
		// The option after a misspelt subcommand is not the mistake.
		{[]string{"alert", "sned", "--zone", "macon", "x"}, "vigie : sous-commande inconnue « sned » pour « vigie alert ». Vouliez-vous dire « send » ?\n(voir vigie alert --help)\n"},
		{[]string{"alert", "sned", "texte"}, "vigie : sous-commande inconnue « sned » pour « vigie alert ». Vouliez-vous dire « send » ?\n(voir vigie alert --help)\n"},
		{[]string{"alret", "--zone", "macon"}, "vigie : commande inconnue « alret » pour « vigie ». Vouliez-vous dire « alert » ?\n(voir vigie --help)\n"},
		{[]string{"alert", "send", "--zon", "macon", "x"}, "vigie : option inconnue « --zon ». Vouliez-vous dire « --zone » ?\n(voir vigie alert send --help)\n"},
		{[]string{"alert", "list", "--limit", "3"}, "vigie : option inconnue « --limit »\n(voir vigie alert list --help)\n"},
		{[]string{"alert", "show", "-x", "1"}, "vigie : option courte inconnue « -x »\n(voir vigie alert show --help)\n"},
		{[]string{"alert", "send", "--zone"}, "vigie : l'option « --zone » demande une valeur\n(voir vigie alert send --help)\n"},
		{[]string{"status", "--interval", "3"}, "vigie : valeur invalide « 3 » pour « --interval » : il faut une durée comme « 30s », « 5m » ou « 1h30m »\n(voir vigie status --help)\n"},
	} {
		_, errOut, code := opsRun{}.run(t, socket, c.args...)
		if code != exitUsage || errOut != c.want {
			t.Errorf("vigie %q: exit %d, stderr\n%q\nwant exit %d and\n%q", c.args, code, errOut, exitUsage, c.want)
		}
	}
	if len(d.sent) != 0 || len(d.tests) != 0 || d.previews != 0 {
		t.Errorf("the daemon was asked something: %+v", d)
	}
}
