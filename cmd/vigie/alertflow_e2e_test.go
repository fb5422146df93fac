//go:build e2e

package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
)

// A follow-up (« fin d'alerte ») goes only to the shops that received the
// alert: not to the one whose SMS failed, nor to those whose SMS was
// cancelled before it left. Its preview says how many it leaves out.
func TestFollowUpOnlyToReceivers(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{sendDelay: 2 * time.Second, transliterate: true}) // 2 s per SMS
	// Queued in number order: carol's fails (or is cancelled while it
	// waits for a retry), alice's is sent, then the cancel catches at
	// least the last ones still waiting.
	const carol, alice = "+33600000009", "+33611111111"
	shops := []string{carol, alice, "+33622222222", "+33633333333", "+33644444444", "+33655555555"}
	for _, n := range shops {
		// Added by the operator: no confirmation SMS to wait for.
		e.mustVigie("subscribers", "add", n, "--zone", "macon")
	}
	e.phones.FailNumber(carol, 1) // unassigned number: a permanent failure
	t0 := time.Now()
	a := e.sendAlert("--zone", "macon", "Vol rue Carnot.")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		rep := decodeJSON[apitype.AlertReport](t, e.mustVigie("alert", "show", fmt.Sprint(a.ID), "--json"))
		if rep.Counts["sent"]+rep.Counts["delivered"] >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing sent yet: %v", rep.Counts)
		}
	}
	e.mustVigie("alert", "cancel", fmt.Sprint(a.ID), "--yes")
	rep := e.waitAlert(a.ID)
	var receivers []string
	for _, m := range rep.Messages {
		if m.State == "sent" || m.State == "delivered" {
			receivers = append(receivers, m.To)
		}
	}
	t.Logf("alert %d: %v after %v", a.ID, rep.Counts, time.Since(t0))
	missed := len(shops) - len(receivers)
	if rep.Counts["cancelled"] < 1 || !slices.Contains(receivers, alice) || slices.Contains(receivers, carol) {
		t.Fatalf("alert counts %v, receivers %v: want alice's sent, carol's failed or cancelled, one cancelled at least", rep.Counts, receivers)
	}

	out := string(e.mustVigie("alert", "followup", fmt.Sprint(a.ID), "--yes", "Fin d'alerte : individu interpellé."))
	for _, w := range []string{
		fmt.Sprintf("Suite de l'alerte %d, pour ceux qui l'ont reçue.\n", a.ID),
		"Texte qui sera envoyé :\n  " + prefix + "Fin d'alerte : individu interpellé." + signature + "\n",
		fmt.Sprintf("Destinataires : %s, ", count(len(receivers), "commerçant", "commerçants")),
		fmt.Sprintf("%d destinataires de l'alerte %d ne l'ont pas reçue (annulée, STOP, échec ou délai dépassé) : ils ne recevront pas cette suite.\n", missed, a.ID),
		fmt.Sprintf("Suite de l'alerte %d acceptée (alerte %d) : %s, 1 SMS chacun.", a.ID, a.ID+1, count(len(receivers), "destinataire", "destinataires")),
	} {
		if !strings.Contains(out, w) {
			t.Errorf("followup output lacks %q:\n%s", w, out)
		}
	}
	f := e.waitAlert(a.ID + 1)
	t.Logf("follow-up done after %v", time.Since(t0))
	var got []string
	for _, m := range f.Messages {
		got = append(got, m.To)
	}
	slices.Sort(got)
	slices.Sort(receivers)
	if !slices.Equal(got, receivers) || f.FollowUpOf != a.ID {
		t.Errorf("follow-up %d of %d went to %v, want exactly the receivers %v", f.ID, f.FollowUpOf, got, receivers)
	}
	for _, n := range receivers {
		if sms := e.waitSMS(n, 2); !strings.Contains(sms.Text, "interpellé") {
			t.Errorf("%s got %q as the follow-up", n, sms.Text)
		}
	}
	for _, n := range shops {
		if !slices.Contains(receivers, n) && len(e.phones.Received(n)) != 0 {
			t.Errorf("%s, who never got the alert, received %v", n, e.phones.Received(n))
		}
	}
}
