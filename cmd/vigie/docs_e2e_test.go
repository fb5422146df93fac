//go:build e2e

// Issue 13 point 7 with the real binaries: French aliases run the commands
// themselves, and the shell's completion asks the real daemon.
package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestFrenchAliasesAndCompletionOnRealDaemon(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	const shop = "+33612345678"
	e.exchange(shop, "INSCRIPTION macon-centre", 1)

	if out := string(e.mustVigie("abonnés", "liste", "--json")); !strings.Contains(out, shop) {
		t.Fatalf("vigie abonnés liste --json: %s", out)
	}
	a := e.sendAlert("--zone", "macon", "Vol rue Carnot.")
	if sms := e.waitSMS(shop, 2); !strings.Contains(sms.Text, "Vol rue Carnot") {
		t.Errorf("the shop got %q", sms.Text)
	}
	if out := string(e.mustVigie("alerte", "voir", fmt.Sprint(a.ID), "--json")); !strings.Contains(out, fmt.Sprintf(`"id": %d`, a.ID)) {
		t.Errorf("vigie alerte voir %d --json: %s", a.ID, out)
	}

	complete := func(args ...string) []string {
		t.Helper()
		out, errOut, code := e.vigie(append([]string{"__complete"}, args...)...)
		if code != 0 {
			t.Fatalf("__complete %v: exit %d, stderr %s", args, code, errOut)
		}
		return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	}
	if got, want := complete("alerte", "envoyer", "--zone", ""), []string{"macon\tMâcon", "macon-centre\tMâcon centre", "macon-nord\tMâcon nord", ":4"}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("zones: %q, want %q", got, want)
	}
	if got := complete("alert", "followup", ""); len(got) != 2 || !strings.HasPrefix(got[0], fmt.Sprintf("%d\t", a.ID)) || !strings.HasSuffix(got[0], " Vol rue Carnot.") || got[1] != ":4" {
		t.Errorf("alert ids: %q", got)
	}
	// The daemon out of reach: nothing, quietly, and no file names.
	if got := complete("--socket", filepath.Join(t.TempDir(), "absent.sock"), "alert", "send", "--zone", ""); len(got) != 1 || got[0] != ":4" {
		t.Errorf("daemon down: %q", got)
	}
}
