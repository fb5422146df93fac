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

// alertShow reads `vigie alert show ID --json`.
func (e *env) alertShow(id uint64) apitype.AlertReport {
	e.t.Helper()
	var rep apitype.AlertReport
	out := e.mustVigie("alert", "show", fmt.Sprint(id), "--json")
	if err := json.Unmarshal(out, &rep); err != nil {
		e.t.Fatalf("alert show output %q: %v", out, err)
	}
	return rep
}

// A shop's answer after an alert reached it is tied to the alert and
// shown with it; an SMS from a number the alert did not reach is not.
func TestWitnessReplyTied(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	const alice, bob = "+33611111111", "+33622222222"
	e.exchange(alice, "INSCRIPTION macon-centre", 1)
	e.exchange(bob, "INSCRIPTION macon-nord", 1)
	// The operator names alice's shop; the name is kept trimmed.
	e.mustVigie("subscribers", "add", alice, "--zone", "macon-centre", "--nom", "  Tabac du Centre ")
	if out := string(e.mustVigie("subscribers", "show", alice)); !strings.Contains(out, "Nom :             Tabac du Centre\n") {
		t.Errorf("subscribers show lacks the name:\n%s", out)
	}

	a := e.sendAlert("--zone", "macon-centre", "--category", "vol", "homme 30 ans, veste bleue.")
	e.waitSMS(alice, 2)
	e.waitAlert(a.ID)

	// Each free text gets the automatic acknowledgement: once it came,
	// the SMS was handled.
	e.exchange(alice, "Je l'ai vu partir vers la gare", 3)
	e.exchange(bob, "Rien vu ici", 2)

	rep := e.alertShow(a.ID)
	if rep.ReplyCount != 1 || len(rep.Replies) != 1 {
		t.Fatalf("alert %d: %d replies counted, list %+v; want alice's only", a.ID, rep.ReplyCount, rep.Replies)
	}
	r := rep.Replies[0]
	if r.From != alice || r.Name != "Tabac du Centre" || r.Text != "Je l'ai vu partir vers la gare" || r.Read || r.ReceivedAt.IsZero() ||
		len(r.Zones) != 1 || r.Zones[0] != "Mâcon centre" {
		t.Errorf("reply = %+v", r)
	}
	text := string(e.mustVigie("alert", "show", fmt.Sprint(a.ID)))
	if !strings.Contains(text, "1 réponse de commerçant :") || !strings.Contains(text, "« Je l'ai vu partir vers la gare »") ||
		!strings.Contains(text, "Tabac du Centre") {
		t.Errorf("alert show lacks the reply:\n%s", text)
	}
	// The inbox keeps both; alice's names its alert.
	var inbox []apitype.InboxMessage
	if err := json.Unmarshal(e.mustVigie("inbox", "--json"), &inbox); err != nil {
		t.Fatal(err)
	}
	tied := map[string]uint64{}
	for _, m := range inbox {
		tied[m.From] = m.AlertID
	}
	if len(inbox) != 2 || tied[alice] != a.ID || tied[bob] != 0 {
		t.Errorf("inbox alert ids = %v, want alice's %d and bob's none", tied, a.ID)
	}
	if out := string(e.mustVigie("inbox")); !strings.Contains(out, fmt.Sprintf("Réponses à l'alerte n° %d du ", a.ID)) {
		t.Errorf("inbox does not group the reply under its alert:\n%s", out)
	}
	out := string(e.mustVigie("status"))
	for _, want := range []string{"Réponses aux alertes : 1 réponse non lue", "Boîte de réception : 1 autre message non lu de commerçant"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}

// A reply after the window is no reply to the alert.
func TestWitnessReplyAfterWindow(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{config: func(s string) string {
		return s + "\n[inbox]\nwitness_window = \"2s\"\n"
	}})
	const alice = "+33611111111"
	e.exchange(alice, "INSCRIPTION macon-centre", 1)
	a := e.sendAlert("--zone", "macon-centre", "--category", "vol", "homme 30 ans, veste bleue.")
	e.waitSMS(alice, 2)
	e.waitAlert(a.ID)
	time.Sleep(3 * time.Second)
	e.exchange(alice, "Je l'ai vu partir vers la gare", 3)
	if rep := e.alertShow(a.ID); rep.ReplyCount != 0 || len(rep.Replies) != 0 {
		t.Errorf("late reply tied: %d, %+v", rep.ReplyCount, rep.Replies)
	}
}

// Each witness reply is forwarded to the on-duty phone with the shop, its
// number and the alert, until the hour's limit; beyond it the reply stays
// in the inbox only.
func TestWitnessReplyForwarded(t *testing.T) {
	t.Parallel()
	const alice, bob, duty = "+33611111111", "+33622222222", "+33699999999"
	e := start(t, envOptions{config: func(s string) string {
		return s + "\n[inbox]\nforward_to = [\"06 99 99 99 99\"]\nforward_per_hour = 1\n"
	}})
	e.exchange(alice, "INSCRIPTION macon-centre", 1)
	e.exchange(bob, "INSCRIPTION macon-nord", 1)
	a := e.sendAlert("--zone", "macon", "--category", "vol", "homme 30 ans, veste bleue.")
	e.waitSMS(alice, 2)
	e.waitSMS(bob, 2)
	e.waitAlert(a.ID)

	e.exchange(alice, "Je l'ai vu partir vers la gare", 3)
	got := e.waitSMS(duty, 1)
	want := fmt.Sprintf("Vigie renvoi : réponse à l'alerte %d de Macon centre (06 11 11 11 11) : Je l'ai vu partir vers la gare", a.ID)
	if got.Text != want {
		t.Errorf("forward = %q, want %q", got.Text, want)
	}
	// The second reply of the hour is over the limit.
	e.exchange(bob, "Une voiture grise est partie vite", 3)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(e.logs.String(), "forward_per_hour reached") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning of the forward limit:\n%s", e.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // a forward queued anyway would be out by now
	if n := len(e.phones.Received(duty)); n != 1 {
		t.Errorf("duty phone got %d SMS, want 1 (limit 1 per hour)", n)
	}
	if rep := e.alertShow(a.ID); rep.ReplyCount != 2 {
		t.Errorf("alert %d: %d replies, want 2 (forwarded or not)", a.ID, rep.ReplyCount)
	}
}
