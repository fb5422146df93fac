package main

import (
	"strings"
	"testing"
)

// An unknown modem family is refused before anything starts, in French,
// with the names to choose from.
func TestUnknownModemFamily(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"sim", "--personality", "nokia3310"}, {"demo", "--modem", "nokia3310"}} {
		out, errOut, code := runCLI(t, args...)
		if code == 0 || out != "" {
			t.Errorf("%v: exit %d, stdout %q: want a refusal and nothing started", args, code, out)
		}
		for _, want := range []string{"« nokia3310 » inconnue", "choisissez parmi", "generic", "quectel", "sim7600", "e303", "ublox"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("%v: stderr %q does not say %q", args, errOut, want)
			}
		}
	}
}
