//go:build e2e

package main

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
)

// TestSendRefusedWhenTheTargetChanged: a shop subscribes by SMS while the
// operator reads the preview; the confirmed send carries the preview's
// fingerprint, the daemon refuses it (nothing queued), the CLI says what
// changed, shows the new preview and asks again; the second yes sends to
// the target as it is now.
func TestSendRefusedWhenTheTargetChanged(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{transliterate: true})
	const alice, bob = "+33611111111", "+33622222222"
	e.exchange(alice, "INSCRIPTION macon-centre", 1)

	cmd := exec.Command(vigieBin, "alert", "send", "--wait=false", "--zone", "macon", "vol rue Carnot")
	cmd.Env = append(os.Environ(), apitype.SocketEnv+"="+e.socket)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor := func(what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(out.String(), what) {
			if time.Now().After(deadline) {
				t.Fatalf("CLI never said %q:\n%s\nstderr: %s", what, out.String(), errb.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("Envoyer à 1 commerçant ?")
	e.exchange(bob, "INSCRIPTION macon-nord", 1) // the target changes under the preview
	io.WriteString(stdin, "o\n")
	waitFor("Envoyer à 2 commerçants ?")
	if !strings.Contains(out.String(), "La cible a changé depuis l'aperçu (2 destinataires maintenant, 1 à l'aperçu") {
		t.Errorf("refusal not said:\n%s", out.String())
	}
	var alerts []apitype.Alert
	if err := json.Unmarshal(e.mustVigie("alert", "list", "--json"), &alerts); err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 0 {
		t.Fatalf("refused send queued %d alerts", len(alerts))
	}
	io.WriteString(stdin, "o\n")
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("alert send: %v\n%s\nstderr: %s", err, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "acceptée : 2 destinataires") {
		t.Errorf("second confirmation did not send to 2:\n%s", out.String())
	}
	e.waitSMS(alice, 2)
	e.waitSMS(bob, 2)
}
