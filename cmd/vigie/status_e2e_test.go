//go:build e2e

package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
)

// The technician's and the operator's screens on the real daemon: the
// listings of an alert, the unread inbox in the status, then the modem
// unplugged: no stale SIM or signal, the cause in French with the next
// step, and `status --check` exits 2 for monitoring.
func TestStatusListingsAndModemUnplugged(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	const alice = "+33611111111"
	e.exchange(alice, "INSCRIPTION macon", 1)
	e.exchange(alice, "Je l'ai vu partir vers la gare", 2)

	a := e.sendAlert("--zone", "macon", "--category", "vol", "Vol rue Carnot.")
	e.waitAlert(a.ID)
	list := string(e.mustVigie("alert", "list"))
	for _, w := range []string{"N°  Date", "Zones", "État", fmt.Sprintf("%d ", a.ID), "Mâcon", "Terminée", "Vol rue Carnot."} {
		if !strings.Contains(list, w) {
			t.Errorf("alert list lacks %q:\n%s", w, list)
		}
	}
	show := string(e.mustVigie("alert", "show", fmt.Sprint(a.ID)))
	for _, w := range []string{"Cible : Mâcon — 1 destinataire, 1 SMS chacun (GSM 7 bits)", "06 11 11 11 11", "Terminée.\n"} {
		if !strings.Contains(show, w) {
			t.Errorf("alert show lacks %q:\n%s", w, show)
		}
	}
	cancel := string(e.mustVigie("alert", "cancel", fmt.Sprint(a.ID)))
	if want := fmt.Sprintf("Alerte %d déjà terminée : il n'y a plus rien à annuler (1 SMS parti).", a.ID); !strings.HasPrefix(cancel, want) {
		t.Errorf("cancel of a finished alert = %q, want it to start with %q", cancel, want)
	}

	var unread []apitype.InboxMessage
	if err := json.Unmarshal(e.mustVigie("inbox", "list", "--json"), &unread); err != nil || len(unread) == 0 {
		t.Fatalf("inbox: %v, %+v: the witness's text must wait there", err, unread)
	}
	out := string(e.mustVigie("status"))
	wantInbox := "Boîte de réception : " + count(len(unread), "message non lu de commerçant", "messages non lus de commerçants") + " — à lire avec vigie inbox\n"
	for _, w := range []string{"SIM READY", wantInbox, "Envoyés aujourd'hui : 3 messages\n"} {
		if !strings.Contains(out, w) {
			t.Errorf("status with the modem in lacks %q:\n%s", w, out)
		}
	}
	if line, _, code := e.vigie("status", "--check"); code != 0 || string(line) != "OK : Vigie prêt, modem prêt\n" {
		t.Errorf("status --check, all well: exit %d, %q", code, line)
	}

	if err := e.phones.Unplug(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var st apitype.Status
		if err := json.Unmarshal(e.mustVigie("status", "--json"), &st); err != nil {
			t.Fatal(err)
		}
		if m := st.Modems[0]; m.State == apitype.ModemFault && m.LastErrorKind == apitype.ErrKindNoDevice {
			if m.SIM != "" || m.SignalDBm != 0 || m.Operator != "" || m.ProbedAt.IsZero() {
				t.Errorf("modem gone, status keeps facts from before: %+v", m)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("modem unplugged 20 s ago, status still %+v", st.Modems)
		}
		time.Sleep(50 * time.Millisecond)
	}
	out = string(e.mustVigie("status"))
	for _, w := range []string{
		"Vigie dev — ",
		": en panne depuis ",
		"\n  modem absent : vérifiez le câble USB et l'alimentation du modem ; journalctl -u vigie\n",
		"\n  dernier contact avec le modem le ",
		" ; SIM et signal inconnus depuis\n",
		" : modem absent\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("status, modem unplugged, lacks %q:\n%s", w, out)
		}
	}
	for _, never := range []string{"SIM READY", "dBm", "opérateur", "no such file", "open "} {
		if strings.Contains(out, never) {
			t.Errorf("status, modem unplugged, says %q:\n%s", never, out)
		}
	}
	line, errb, code := e.vigie("status", "--check")
	if want := "EN PANNE : modem m1 : modem absent : vérifiez le câble USB et l'alimentation du modem ; journalctl -u vigie\n"; code != 2 || string(line) != want {
		t.Errorf("status --check, modem unplugged: exit %d, %q (stderr %q); want exit 2, %q", code, line, errb, want)
	}
}
