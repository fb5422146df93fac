//go:build e2e

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
)

// vigieWith runs the CLI binary with stdin.
func (e *env) vigieWith(stdin string, args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	cmd := exec.Command(vigieBin, args...)
	cmd.Env = append(os.Environ(), apitype.SocketEnv+"="+e.socket)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run vigie %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// interrupted starts the CLI, waits until its stdout holds want, then
// sends it SIGINT as Ctrl-C would, and returns its output and exit code.
func (e *env) interrupted(want string, args ...string) (string, int) {
	e.t.Helper()
	cmd := exec.Command(vigieBin, args...)
	cmd.Env = append(os.Environ(), apitype.SocketEnv+"="+e.socket)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			e.t.Fatalf("vigie %v: no %q after 30 s:\n%s", args, want, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return out.String(), code
}

func decodeJSON[T any](t *testing.T, out []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("JSON output %q: %v", out, err)
	}
	return v
}

// The operator's day on the simulated modem: zones, preview, confirm,
// send and follow, report, test SMS, inbox, status, config check.
func TestOperatorDay(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{transliterate: true})
	const alice, bob, carol = "+33611111111", "+33622222222", "+33633333333"
	e.exchange(alice, "INSCRIPTION macon-centre", 1)
	e.exchange(bob, "INSCRIPTION macon-nord", 1)
	e.exchange(carol, "INSCRIPTION macon-nord", 1)
	e.exchange(carol, "STOP", 2)

	zs := decodeJSON[apitype.Zones](t, e.mustVigie("zones", "--json"))
	if len(zs.Zones) != 3 || zs.Zones[0].ID != "macon" || zs.Zones[0].Reach != 2 || zs.Zones[0].Subscribers != 0 ||
		zs.Zones[1].Subscribers != 1 || zs.Zones[1].Parent != "macon" || zs.Zones[2].Subscribers != 1 {
		t.Errorf("zones = %+v; want macon reaching 2, each sub-zone 1 (carol stopped)", zs.Zones)
	}
	if out := string(e.mustVigie("zones")); !strings.Contains(out, "macon-nord") || !strings.Contains(out, "Aucun métier") {
		t.Errorf("zones:\n%s", out)
	}

	// Preview: what would happen, and nothing happens.
	out := string(e.mustVigie("alerte", "preview", "--zone", "macon", "--category", "vol", "Vol rue Carnot."))
	for _, w := range []string{"Vigilance commerce 71 : Vol rue Carnot. Gendarmerie.", "GSM 7 bits", "Destinataires : 2 commerçants", "Aperçu seulement"} {
		if !strings.Contains(out, w) {
			t.Errorf("preview lacks %q:\n%s", w, out)
		}
	}
	// Answering no sends nothing either.
	if out, errOut, code := e.vigieWith("n\n", "alert", "send", "--zone", "macon", "Vol rue Carnot."); code != 0 || !strings.Contains(out, "Envoyer à 2 commerçants ? [o]ui / [n]on / [m]odifier : ") || !strings.Contains(out, "rien n'a été envoyé") {
		t.Errorf("send, answered no: exit %d\n%s%s", code, out, errOut)
	}
	if as := decodeJSON[[]apitype.Alert](t, e.mustVigie("alert", "list", "--json")); len(as) != 0 {
		t.Fatalf("alerts after preview and a refusal: %+v", as)
	}

	// Yes: queued; the text comes from stdin with --yes and --wait follows it to the end.
	out, errOut, code := e.vigieWith("o\n", "alert", "send", "--zone", "macon", "Vol rue Carnot.")
	if code != 0 || !strings.Contains(out, "Alerte 1 acceptée : 2 destinataires") {
		t.Fatalf("send, answered yes: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = e.vigieWith("Fin d'alerte : individu interpellé.\n", "alert", "send", "--yes", "--wait", "--interval", "100ms", "--zone", "macon-nord", "-")
	if code != 0 || !strings.Contains(out, "Alerte 2 terminée.") || !strings.Contains(out, "restant 0") {
		t.Fatalf("send --wait: exit %d\n%s%s", code, out, errOut)
	}
	if got := e.waitSMS(bob, 3); got.Text != prefix+"Fin d'alerte : individu interpellé."+signature {
		t.Errorf("bob got %q", got.Text)
	}

	e.waitAlert(1)
	out = string(e.mustVigie("alert", "show", "1"))
	for _, w := range []string{"Alerte 1 (autre) par ", "Cible : Mâcon — 2 destinataires", "06 11 11 11 11", "06 22 22 22 22", "Terminée."} {
		if !strings.Contains(out, w) {
			t.Errorf("alert show lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, alice) || strings.Contains(out, "Ne l'ont pas reçue") {
		t.Errorf("alert show: an unmasked number or a missed recipient:\n%s", out)
	}

	// A test SMS.
	out = string(e.mustVigie("alert", "test", "--to", "06 99 99 99 99", "Essai", "de", "la", "ligne"))
	if !strings.Contains(out, "SMS de test") || !strings.Contains(out, "+33699999999") {
		t.Errorf("alert test:\n%s", out)
	}
	if got := e.waitSMS("+33699999999", 1); got.Text != "Essai de la ligne" {
		t.Errorf("test SMS = %q", got.Text)
	}

	// A witness answers: the inbox has it, unread, until read.
	if ack := e.exchange(alice, "Je l'ai vu partir vers la gare", 3); !strings.Contains(ack.Text, "message transmis") {
		t.Errorf("acknowledgement = %q", ack.Text)
	}
	in := decodeJSON[[]apitype.InboxMessage](t, e.mustVigie("messages", "--json"))
	if len(in) != 1 || in[0].From != alice || in[0].Text != "Je l'ai vu partir vers la gare" || in[0].Read || in[0].Outcome != "inbox" {
		t.Fatalf("inbox = %+v", in)
	}
	if out := string(e.mustVigie("inbox")); !strings.Contains(out, "1 message non lu") || !strings.Contains(out, "vers la gare") {
		t.Errorf("inbox:\n%s", out)
	}
	id := fmt.Sprint(in[0].ID)
	if out := string(e.mustVigie("inbox", "show", id)); !strings.Contains(out, "Non lu") {
		t.Errorf("inbox show:\n%s", out)
	}
	e.mustVigie("inbox", "read", id)
	if in := decodeJSON[[]apitype.InboxMessage](t, e.mustVigie("inbox", "list", "--json")); len(in) != 0 {
		t.Errorf("unread after reading: %+v", in)
	}
	if in := decodeJSON[[]apitype.InboxMessage](t, e.mustVigie("inbox", "list", "--all", "--json")); len(in) != 1 || !in[0].Read || in[0].ReadAt.IsZero() {
		t.Errorf("inbox --all after reading: %+v", in)
	}
	if _, errb, code := e.vigie("inbox", "read", "99"); code != 1 || !strings.Contains(string(errb), "introuvable") {
		t.Errorf("read 99: exit %d, %s", code, errb)
	}

	// status --watch refreshes until Ctrl-C, which ends it cleanly.
	out, code = e.interrupted("----", "etat", "--watch", "--interval", "100ms")
	if code != 0 || strings.Count(out, "Vigie ") < 2 || strings.Contains(out, "\033") {
		t.Errorf("status --watch: exit %d\n%s", code, out)
	}

	// config check needs no daemon.
	cfg := filepath.Join(e.dir, "vigie.toml")
	if out, _, code := e.vigieWith("", "config", "check", "--config", cfg, "--socket", "/nonexistent"); code != 0 || !strings.Contains(out, "Configuration valide : 1 modem, 3 zones, 0 métier") {
		t.Errorf("config check: exit %d, %s", code, out)
	}
}

// Ctrl-C during --wait stops the watching, not the sending; a report says
// who did not get an alert and why.
func TestWaitInterruptedAndWhoMissedIt(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{sendDelay: 3 * time.Second, transliterate: true}) // 3 s per SMS
	// Queued in number order: carol's fails, alice's is sent, bob's waits.
	const carol, alice, bob = "+33600000009", "+33611111111", "+33622222222"
	for _, n := range []string{carol, alice, bob} {
		e.exchange(n, "INSCRIPTION macon", 1)
	}
	e.phones.FailNumber(carol, 1) // unassigned number: a permanent failure

	out, code := e.interrupted("restant", "alert", "send", "--yes", "--wait", "--interval", "100ms", "--zone", "macon", "Vol rue Carnot.")
	if code != 0 || !strings.Contains(out, "Suivi interrompu : l'envoi continue") {
		t.Fatalf("interrupted --wait: exit %d\n%s", code, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		rep := decodeJSON[apitype.AlertReport](t, e.mustVigie("alert", "show", "1", "--json"))
		if rep.Counts["cancelled"] != 0 {
			t.Fatalf("after Ctrl-C: counts %v; the alert must go on", rep.Counts)
		}
		if rep.Counts["failed"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("carol's SMS did not fail: %v", rep.Counts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.mustVigie("alert", "cancel", "1", "--yes")
	e.waitAlert(1)
	out = string(e.mustVigie("alert", "show", "1"))
	for _, w := range []string{
		"Annulée.\n",
		"Ne l'ont pas reçue (2) :",
		"06 00 00 00 09   échec définitif de l'envoi",
		"06 22 22 22 22   alerte annulée avant son envoi",
		// The gendarme calls the shop the alert missed, not the one he cancelled.
		"À prévenir par téléphone (1) :\n  06 00 00 00 09 — Mâcon\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("alert show lacks %q:\n%s", w, out)
		}
	}
}
