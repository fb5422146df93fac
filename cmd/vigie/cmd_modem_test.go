package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/modem"
	"vigie/modem/sim"
)

// runCLI runs the vigie command line in-process and returns its output and
// exit code.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	g := &globalOptions{stdout: &out, stderr: &errOut, stdin: strings.NewReader("")}
	root := newRootCommand(g)
	root.SetArgs(args)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := report(g.stderr, root.ExecuteContext(ctx))
	return out.String(), errOut.String(), code
}

// plugged starts a simulated modem on a pseudo-terminal and returns its path.
func plugged(t *testing.T, opts sim.Options) (*sim.Modem, string) {
	t.Helper()
	m := sim.New(opts)
	t.Cleanup(func() { m.Close() })
	link := filepath.Join(t.TempDir(), "modem")
	if _, err := m.OpenPTY(link); err != nil {
		t.Fatal(err)
	}
	return m, link
}

func TestModemProbe(t *testing.T) {
	t.Parallel()
	healthy := func(*sim.Modem) {}
	cases := []struct {
		name    string
		opts    sim.Options
		prepare func(*sim.Modem)
		want    []string // lines of the French output
		code    int
	}{
		{"healthy", sim.Options{}, healthy, []string{
			"Modèle : Vigie-Sim SIM-LTE", "SIM : READY", "Réseau : enregistré, opérateur", "Signal : 5/5",
			"Centre SMS : +33609001390", "Mémoire SMS (SM) : 0/30", "AT+CMMS oui",
			"Heure du réseau :", "(horloge du système à l'heure)",
			"Diagnostic : aucun problème",
		}, exitOK},
		{"network clock ahead", sim.Options{NetworkClockOffset: 3 * time.Hour}, healthy, []string{
			"(horloge du système en retard de 3 h 00 min)",
		}, exitOK},
		{"PIN", sim.Options{PIN: "1234"}, healthy, []string{"SIM : SIM PIN", "SIM verrouillée : code PIN requis"}, exitError},
		{"no network", sim.Options{}, func(m *sim.Modem) { m.SetNetwork(false) }, []string{"pas de réseau"}, exitError},
		{"weak signal", sim.Options{}, func(m *sim.Modem) { m.SetSignal(2) }, []string{"signal faible"}, exitOK},
		{"no answer", sim.Options{}, func(m *sim.Modem) { m.SetHang(true) }, []string{"aucune réponse du modem sur"}, exitError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			m, link := plugged(t, c.opts)
			c.prepare(m)
			out, errOut, code := runCLI(t, "modem", "probe", "--device", link)
			if code != c.code {
				t.Errorf("exit %d, want %d; stderr %q", code, c.code, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if n := m.CommandCount("+CPIN="); n != 0 {
				t.Errorf("the probe entered a PIN %d times; it never must", n)
			}
		})
	}
}

func TestModemProbeJSONAndMissingDevice(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "ttyUSB9")
	out, _, code := runCLI(t, "modem", "probe", "--device", missing, "--json")
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
	var reports []modem.Report
	if err := json.Unmarshal([]byte(out), &reports); err != nil {
		t.Fatalf("JSON output %q: %v", out, err)
	}
	if len(reports) != 1 || reports[0].Device != missing || len(reports[0].Problems) != 1 || reports[0].Problems[0] != modem.ProblemNoDevice {
		t.Errorf("reports %+v, want one with the no-device problem", reports)
	}
}

// Without --device, the modems come from the configuration.
func TestModemProbeReadsTheConfig(t *testing.T) {
	t.Parallel()
	_, link := plugged(t, sim.Options{})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vigie.toml")
	text := "[[modem]]\nname = \"m1\"\ndevice = \"" + link + "\"\n"
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "modem", "probe", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "Modem "+link) {
		t.Errorf("exit %d, output %q, stderr %q", code, out, errOut)
	}
	_, errOut, code = runCLI(t, "modem", "probe", "--config", filepath.Join(dir, "absent.toml"))
	if code != exitUsage || !strings.Contains(errOut, "configuration") {
		t.Errorf("missing config: exit %d, stderr %q; want a usage error naming the configuration", code, errOut)
	}
}

// The probe runs the daemon's own start-up on every modem family: each
// one the daemon can open gets exit 0, its family named and the quirks
// applied listed; no "aucun problème" where something could not be read.
func TestModemProbeEveryFamily(t *testing.T) {
	t.Parallel()
	families := map[sim.Personality]string{
		sim.Quectel: "Quectel", sim.SIM7600: "SIMCom", sim.SIM800: "SIMCom", sim.A7670: "SIMCom",
		sim.Huawei: "Huawei", sim.HuaweiE3372: "Huawei", sim.HuaweiE303: "Huawei", sim.ZTE: "ZTE",
		sim.CinterionPHS8: "Cinterion", sim.CinterionMC75i: "Cinterion", sim.Sierra: "Sierra Wireless",
		sim.Ublox: "u-blox", sim.Generic: "générique",
	}
	for _, p := range sim.Personalities() {
		t.Run(p.String(), func(t *testing.T) {
			t.Parallel()
			_, link := plugged(t, sim.Options{Personality: p, BootScale: 0.1})
			out, errOut, code := runCLI(t, "modem", "probe", "--device", link)
			if code != exitOK {
				t.Errorf("exit %d, want 0; stderr %q\n%s", code, errOut, out)
			}
			want, ok := families[p]
			if !ok {
				t.Fatalf("no family expected for %s", p)
			}
			if !strings.Contains(out, "Famille reconnue : "+want) {
				t.Errorf("family %q not named:\n%s", want, out)
			}
			if strings.Contains(out, "Non lu") && strings.Contains(out, "aucun problème") {
				t.Errorf("something was not read, yet no problem is said:\n%s", out)
			}
		})
	}
}
