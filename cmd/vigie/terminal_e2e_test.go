//go:build e2e

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"vigie/gateway/apitype"
)

// hostileText clears the screen, sets the window title, rings, rubs out
// what came before and turns the rest of the line around.
const hostileText = "\x1b[2J\x1b]0;VIGIE PIRATEE\x07Alerte levée\b\b\b\b\u202eenog\u200b\ufeff ok\r\nfin"

// assertInert fails if out holds any character that acts on a terminal or
// hides what a text says; line feeds and tabs are the CLI's own.
func assertInert(t *testing.T, what string, out []byte) {
	t.Helper()
	for _, r := range string(out) {
		if r == '\n' || r == '\t' {
			continue
		}
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
			t.Errorf("%s: %U reaches the terminal:\n%q", what, r, out)
			return
		}
	}
}

// An SMS written to make an operator's terminal lie is shown visibly, in
// every human output that carries it, and kept exact in --json.
func TestHostileSMSNeverReachesTheTerminalRaw(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	if err := e.phones.Inject("+33611223344", hostileText); err != nil {
		t.Fatal(err)
	}
	var msgs []apitype.InboxMessage
	deadline := time.Now().Add(30 * time.Second)
	for len(msgs) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the SMS never reached the inbox\n%s", e.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
		if err := json.Unmarshal(e.mustVigie("inbox", "--all", "--json"), &msgs); err != nil {
			t.Fatal(err)
		}
	}
	if msgs[0].Text != hostileText {
		t.Errorf("--json text = %q, want the exact %q", msgs[0].Text, hostileText)
	}
	id := msgs[0].ID
	list := e.mustVigie("inbox")
	show := e.mustVigie("inbox", "show", fmt.Sprint(id))
	for what, out := range map[string][]byte{"inbox": list, "inbox show": show} {
		assertInert(t, what, out)
		if !strings.Contains(string(out), `\u001b[2J`) {
			t.Errorf("%s does not show the escape visibly:\n%s", what, out)
		}
	}
	// The text's own line break is kept, indented under "Texte :", so it
	// cannot start a line of its own.
	if !strings.Contains(string(show), "ok\n        fin") {
		t.Errorf("inbox show does not keep the line break readable:\n%s", show)
	}
	// The raw JSON on a terminal is inert too, and still decodes exactly.
	raw := e.mustVigie("inbox", "show", fmt.Sprint(id), "--json")
	assertInert(t, "inbox show --json", raw)
	var m apitype.InboxMessage
	if err := json.Unmarshal(raw, &m); err != nil || m.Text != hostileText {
		t.Errorf("inbox show --json = %q (%v), want the exact text", m.Text, err)
	}
}

// CSV cells are outside text too: an import report quoting a broken row
// shows what it holds without acting on the terminal.
func TestHostileCSVCellsShownInert(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	csv := filepath.Join(e.dir, "hostile.csv")
	data := "Téléphone;Quartier;Métier\n" +
		"06 11 11 11 11;\x1b[2Jmacon\x07;\x1b[31mboulangerie\n" +
		"\u202e11 11 11 11 60;macon;\n"
	if err := os.WriteFile(csv, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, _ := e.vigie("subscribers", "import", csv, "--zone", "macon")
	assertInert(t, "subscribers import", out)
	assertInert(t, "subscribers import (errors)", errOut)
	if !strings.Contains(string(out), `[2Jmacon`) || !strings.Contains(string(out), "ligne 2") {
		t.Errorf("the report does not show the broken row visibly:\n%s", out)
	}
	list := e.mustVigie("subscribers", "list")
	assertInert(t, "subscribers list", list)
}
