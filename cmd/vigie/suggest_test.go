package main

import (
	"os"
	"path/filepath"
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
		{[]string{"alert", "--zone", "macon", "x"}, "vigie : option « --zone » sans commande : « vigie alert » attend d'abord une commande, par exemple « vigie alert preview --zone … » ou « vigie alert send --zone … »\n(voir vigie alert --help)\n"},
		{[]string{"completion", "fsh"}, "vigie : sous-commande inconnue « fsh » pour « vigie completion ». Vouliez-vous dire « fish » ?\n(voir vigie completion --help)\n"},
		{[]string{"abonnes", "lsit"}, "vigie : sous-commande inconnue « lsit » pour « vigie subscribers ». Vouliez-vous dire « list » ?\n(voir vigie subscribers --help)\n"},
		{[]string{"--versoin"}, "vigie : option inconnue « --versoin ». Vouliez-vous dire « --version » ?\n(voir vigie --help)\n"},
		{[]string{"alert", "send", "--zon", "macon", "x"}, "vigie : option inconnue « --zon ». Vouliez-vous dire « --zone » ?\n(voir vigie alert send --help)\n"},
		{[]string{"alert", "list", "--limit", "3"}, "vigie : option inconnue « --limit »\n(voir vigie alert list --help)\n"},
		{[]string{"alert", "show", "-x", "1"}, "vigie : option courte inconnue « -x »\n(voir vigie alert show --help)\n"},
		{[]string{"alert", "send", "--zone"}, "vigie : l'option « --zone » demande une valeur\n(voir vigie alert send --help)\n"},
		{[]string{"subscribers", "export", "a.csv", "b.csv"}, "vigie : « vigie subscribers export » attend au plus 1 argument, 2 donnés\n(voir vigie subscribers export --help)\n"},
		{[]string{"alert", "show"}, "vigie : « vigie alert show » attend 1 argument, 0 donné\n(voir vigie alert show --help)\n"},
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

// TestConfigCheckWarns: a file that is valid but cannot work is accepted
// (exit 0) and each problem said after the verdict, « attention : » first,
// in file order, what is missing last; with errors, every error and every
// warning at once.
func TestConfigCheckWarns(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.toml")
	doc := "[[modem]]\nname = \"m1\"\ndevice = \"/dev/ttyUSB0\"\nbaud = 115000\nrate_per_minute = 1e9\n\n" +
		"[[modem]]\nname = \"m2\"\ndevice = \"/dev/ttyUSB0\"\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "config", "check", "--config", path)
	want := "Configuration valide : 2 modems, 0 zone, 0 métier (" + path + ")\n" +
		"  attention : " + path + ":4: modem[0].baud: 115000 bauds n'est pas une vitesse de port série : le port refusera de s'ouvrir ; 115200 convient à la plupart des modems 4G\n" +
		"  attention : " + path + ":5: modem[0].rate_per_minute: 1000000000 SMS par minute est hors de portée d'un modem, qui envoie un SMS en 3 à 10 s (6 à 20 par minute) : la durée d'envoi annoncée serait fausse ; indiquez le débit réel (10 est courant, 60 au plus)\n" +
		"  attention : " + path + ":9: modem[1].device: même port que modem[0] (/dev/ttyUSB0) : un port ne sert qu'un modem, les deux se disputeraient les réponses ; donnez à chaque modem le sien (ls -l /dev/serial/by-id)\n" +
		"  attention : " + path + ": zone: aucune zone : les commerçants ne peuvent pas s'inscrire par SMS et une alerte ne peut viser que --all ; ajoutez au moins un [[zone]] (id, name, aliases)\n"
	if code != exitOK || out != want || errOut != "" {
		t.Errorf("exit %d, stdout\n%s\nstderr %q; want 0 and\n%s", code, out, errOut, want)
	}

	// Errors of every kind at once, the warnings after them.
	doc = "[[modem]]\nname = \"m1\"\ndevice = \"/dev/ttyUSB0\"\nbaud = \"vite\"\nburst = 0\nrate_per_minut = 10\n\n[sms]\nmax_parts = \"3\"\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runCLI(t, "config", "check", "--config", path)
	want = "Configuration invalide : 4 erreurs\n" +
		"  " + path + ":4: modem[0].baud: type incorrect (valeur : texte ; attendu : nombre entier)\n" +
		"  " + path + ":5: modem[0].burst: doit valoir au moins 1\n" +
		"  " + path + ":6: modem[0].rate_per_minut: clé inconnue ; vouliez-vous dire « rate_per_minute » ?\n" +
		"  " + path + ":9: sms.max_parts: type incorrect (valeur : texte ; attendu : nombre entier)\n" +
		"  attention : " + path + ": zone: aucune zone : les commerçants ne peuvent pas s'inscrire par SMS et une alerte ne peut viser que --all ; ajoutez au moins un [[zone]] (id, name, aliases)\n"
	if code != exitError || errOut != want || out != "" {
		t.Errorf("exit %d, stderr\n%s\nstdout %q; want 1 and\n%s", code, errOut, out, want)
	}
}

// TestUnreachableInFrench: a daemon that is not there is said in French,
// with where the CLI looked and what to run next (exit 3).
func TestUnreachableInFrench(t *testing.T) {
	none := filepath.Join(t.TempDir(), "vigie.sock")
	_, errOut, code := runCLI(t, "--socket", none, "zones")
	want := "vigie : le démon ne répond pas (le socket " + none + " n'existe pas). Est-il démarré ? (systemctl status vigie ; la cause d'un arrêt : journalctl -u vigie -e)\n"
	if code != exitUnreachable || errOut != want {
		t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, exitUnreachable, want)
	}
}
