// Package systemd holds no Go code: the unit and the udev rule Vigie
// installs. These tests check that the files say what the daemon relies on.
package systemd

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// udevKey is one KEY[{attr}] OP "value" of a udev rule.
type udevKey struct {
	name, attr, op, value string
}

var udevToken = regexp.MustCompile(`^([A-Z_]+)(?:\{([^}]+)\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(?:,\s*|$)`)

// Keys udev knows, and whether each matches (==, !=) or assigns.
var (
	udevMatch  = []string{"ACTION", "DEVPATH", "KERNEL", "KERNELS", "NAME", "SYMLINK", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER", "DRIVERS", "ATTR", "ATTRS", "SYSCTL", "ENV", "CONST", "TAG", "TAGS", "TEST", "PROGRAM", "RESULT"}
	udevAssign = []string{"NAME", "SYMLINK", "OWNER", "GROUP", "MODE", "SECLABEL", "ATTR", "SYSCTL", "ENV", "TAG", "RUN", "LABEL", "GOTO", "IMPORT", "OPTIONS"}
)

// parseRule splits one rule line into its keys, or fails the test.
func parseRule(t *testing.T, n int, line string) []udevKey {
	t.Helper()
	var keys []udevKey
	for rest := strings.TrimSpace(line); rest != ""; {
		m := udevToken.FindStringSubmatch(rest)
		if m == nil {
			t.Fatalf("line %d: cannot parse %q", n, rest)
		}
		k := udevKey{name: m[1], attr: m[2], op: m[3], value: m[4]}
		matching := k.op == "==" || k.op == "!="
		if matching && !slices.Contains(udevMatch, k.name) || !matching && !slices.Contains(udevAssign, k.name) {
			t.Errorf("line %d: %s%s is not a udev %s key", n, k.name, k.op, map[bool]string{true: "match", false: "assignment"}[matching])
		}
		keys = append(keys, k)
		rest = rest[len(m[0]):]
	}
	return keys
}

func readRules(t *testing.T) [][]udevKey {
	t.Helper()
	f, err := os.Open("99-vigie-modem.rules")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rules [][]udevKey
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := s.Text()
		if strings.HasSuffix(line, `\`) {
			t.Errorf("line %d: keep each rule on one line", n)
		}
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		rules = append(rules, parseRule(t, n, line))
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return rules
}

// get is the value of a key in a rule, and whether it is there.
func get(rule []udevKey, name, attr, op string) (string, bool) {
	for _, k := range rule {
		if k.name == name && k.attr == attr && k.op == op {
			return k.value, true
		}
	}
	return "", false
}

func TestModemRules(t *testing.T) {
	rules := readRules(t)
	type modem struct{ vendor, product, ifnum string }
	var ports []modem
	ignored := map[string]bool{} // vendor:product whose whole device ModemManager ignores
	labels, gotos := map[string]bool{}, map[string]bool{}
	hexIf := regexp.MustCompile(`^[0-9a-f]{2}$`)
	for _, r := range rules {
		if v, ok := get(r, "LABEL", "", "="); ok {
			labels[v] = true
		}
		if v, ok := get(r, "GOTO", "", "="); ok {
			gotos[v] = true
		}
		vendor, _ := get(r, "ATTR", "idVendor", "==")
		products, _ := get(r, "ATTR", "idProduct", "==")
		if dt, _ := get(r, "ENV", "DEVTYPE", "=="); dt == "usb_device" {
			if v, _ := get(r, "ENV", "ID_MM_DEVICE_IGNORE", "="); v != "1" {
				t.Errorf("usb_device rule %v does not set ID_MM_DEVICE_IGNORE=1", r)
			}
			// The USB reset (USBDEVFS_RESET) needs the node open for writing.
			g, _ := get(r, "GROUP", "", "=")
			m, _ := get(r, "MODE", "", "=")
			if g != "vigie" || m != "0664" {
				t.Errorf("usb_device rule %v: want GROUP=\"vigie\", MODE=\"0664\" (got %q, %q)", r, g, m)
			}
			for _, p := range strings.Split(products, "|") {
				ignored[vendor+":"+p] = true
			}
			continue
		}
		if link, _ := get(r, "SYMLINK", "", "+="); link != "vigie-modem0" {
			continue
		}
		// A modem's AT port: every key Vigie relies on.
		want := []struct{ name, attr, op, value string }{
			{"SUBSYSTEM", "", "==", "tty"},
			{"GROUP", "", "=", "vigie"},
			{"MODE", "", "=", "0660"},
			{"ENV", "ID_MM_DEVICE_IGNORE", "=", "1"},
		}
		for _, w := range want {
			if v, ok := get(r, w.name, w.attr, w.op); !ok || v != w.value {
				t.Errorf("rule %v: %s{%s}%s%q missing (got %q)", r, w.name, w.attr, w.op, w.value, v)
			}
		}
		vendor, _ = get(r, "ATTRS", "idVendor", "==")
		products, _ = get(r, "ATTRS", "idProduct", "==")
		ifnum, _ := get(r, "ENV", "ID_USB_INTERFACE_NUM", "==")
		if !hexIf.MatchString(ifnum) || vendor == "" || products == "" {
			t.Errorf("rule %v: want ATTRS{idVendor}, ATTRS{idProduct} and ENV{ID_USB_INTERFACE_NUM} as two hex digits", r)
		}
		for _, p := range strings.Split(products, "|") {
			ports = append(ports, modem{vendor, p, ifnum})
		}
	}
	for _, want := range []modem{
		{"2c7c", "0125", "02"}, // Quectel EC25/EG25
		{"2c7c", "0306", "02"}, // Quectel EM06
		{"1e0e", "9001", "02"}, // SIMCom SIM7600
		{"1199", "9071", "03"}, // Sierra MC7455/EM7455
		{"1199", "68c0", "03"}, // Sierra MC73xx
		{"12d1", "15c1", "02"}, // Huawei ME909s
	} {
		if !slices.Contains(ports, want) {
			t.Errorf("no /dev/vigie-modem0 rule for %s:%s interface %s", want.vendor, want.product, want.ifnum)
		}
	}
	for _, p := range ports {
		if !ignored[p.vendor+":"+p.product] {
			t.Errorf("%s:%s: its usb_device is not hidden from ModemManager", p.vendor, p.product)
		}
	}
	for g := range gotos {
		if !labels[g] {
			t.Errorf("GOTO=%q has no LABEL", g)
		}
	}
}

// udevadm verify (systemd ≥ 253) checks the syntax as udev itself does.
func TestUdevadmVerify(t *testing.T) {
	if _, err := exec.LookPath("udevadm"); err != nil {
		t.Skip("no udevadm")
	}
	out, err := exec.Command("udevadm", "verify", "--help").CombinedOutput()
	if err != nil {
		t.Skipf("udevadm without verify (systemd < 253): %s", strings.TrimSpace(string(out)))
	}
	if out, err := exec.Command("udevadm", "verify", "99-vigie-modem.rules").CombinedOutput(); err != nil {
		t.Errorf("udevadm verify: %v\n%s", err, out)
	}
}

// The unit says what the daemon and its defaults rely on.
func TestUnit(t *testing.T) {
	b, err := os.ReadFile("vigie.service")
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			settings[k] = append(settings[k], v)
		}
	}
	for _, w := range []struct{ key, value string }{
		{"Type", "notify"},
		{"Restart", "always"},
		{"User", "vigie"},
		{"Group", "vigie"},
		{"SupplementaryGroups", "dialout"},
		{"StateDirectory", "vigie"},   // /var/lib/vigie/vigie.db
		{"RuntimeDirectory", "vigie"}, // /run/vigie/vigie.sock
		{"ConfigurationDirectory", "vigie"},
		{"LoadCredential", "pin:/etc/vigie/pin"},
		{"RestrictAddressFamilies", "AF_UNIX"},
		{"DeviceAllow", "char-ttyUSB rw"},
		{"DeviceAllow", "char-ttyACM rw"},
		{"DeviceAllow", "char-usb_device rw"}, // the USB reset
		{"DevicePolicy", "closed"},
		{"ExecStart", "/usr/bin/vigie serve --config /etc/vigie/vigie.toml"},
	} {
		if !slices.Contains(settings[w.key], w.value) {
			t.Errorf("vigie.service: no %s=%s (has %q)", w.key, w.value, settings[w.key])
		}
	}
	if len(settings["WatchdogSec"]) != 1 {
		t.Errorf("vigie.service: want one WatchdogSec=, got %q", settings["WatchdogSec"])
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		return
	}
	// verify complains that /usr/bin/vigie is missing here; any other
	// complaint is about the unit itself.
	out, _ := exec.Command("systemd-analyze", "verify", "--man=no", "vigie.service").CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line != "" && !strings.Contains(line, "/usr/bin/vigie is not executable") && !strings.Contains(line, "man vigie(1)") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
}
