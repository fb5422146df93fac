//go:build e2e

package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/modem/sim"
)

// startInfo is start with the daemon at info level, as in production, and
// a short concat_window so that an SMS whose parts never come reaches the
// inbox within the test; journal collects what the daemon alone wrote
// (e.logs also has the simulated modem's debug lines).
func startInfo(t *testing.T, window string) (e *env, journal *syncBuffer) {
	t.Helper()
	journal = &syncBuffer{}
	e = start(t, envOptions{journal: journal, config: func(text string) string {
		text = strings.Replace(text, `level = "debug"`, `level = "info"`, 1)
		return strings.Replace(text, "\n[keywords]", "concat_window = \""+window+"\"\n\n[keywords]", 1)
	}})
	return e, journal
}

// deliver hands one SMS to the simulated modem.
func (e *env) deliver(d sim.Delivery) {
	e.t.Helper()
	if err := e.phones.Deliver(d); err != nil {
		e.t.Fatalf("deliver %+v: %v", d, err)
	}
}

// waitInbox polls `vigie inbox --all --json` until ok holds.
func (e *env) waitInbox(what string, ok func([]apitype.InboxMessage) bool) []apitype.InboxMessage {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		in := decodeJSON[[]apitype.InboxMessage](e.t, e.mustVigie("inbox", "--all", "--json"))
		if ok(in) {
			return in
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("inbox never had %s: %+v\n%s", what, in, e.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func inboxFrom(in []apitype.InboxMessage, from string) []apitype.InboxMessage {
	var out []apitype.InboxMessage
	for _, m := range in {
		if m.From == from {
			out = append(out, m)
		}
	}
	return out
}

// Forged and broken senders, the reused concatenation reference and the
// SMS whose parts never all come, on one daemon at info level: what each
// does, and that its journal never carries a whole number.
func TestHostileInbound(t *testing.T) {
	t.Parallel()
	e, journal := startInfo(t, "3s")
	const (
		shop    = "+33612345679" // spelt "0612345679" by the forger
		witness = "+33622222222"
		late    = "+33633333333"
	)
	numbers := []string{shop, witness, late}
	for i, n := range numbers {
		if got := e.exchange(n, "INSCRIPTION macon", 1); !strings.Contains(got.Text, "Macon") {
			t.Fatalf("subscription %d reply = %q", i, got.Text)
		}
	}

	t.Run("alphanumeric sender spelling a subscriber", func(t *testing.T) {
		e.t = t
		// Any bulk-SMS account can set "0612345679" as its sender name.
		e.deliver(sim.Delivery{From: "0612345679", Alphanumeric: true, Text: "STOP"})
		e.deliver(sim.Delivery{From: "0612345679", Alphanumeric: true, Text: "INSCRIPTION macon"})
		in := e.waitInbox("the forged SMS", func(in []apitype.InboxMessage) bool { return len(inboxFrom(in, "0612345679")) == 2 })
		for _, m := range inboxFrom(in, "0612345679") {
			if m.FromKind != apitype.SenderAlphanumeric || m.Outcome != apitype.OutcomeInbox {
				t.Errorf("forged SMS kept as %+v", m)
			}
		}
		// A reply, had one been queued with the forged SMS, would leave
		// before this one.
		if got := e.exchange(shop, "AIDE", 2); strings.Contains(got.Text, "ne recevrez plus") || !strings.Contains(got.Text, "INSCRIPTION") {
			t.Errorf("second SMS to the shop = %q, want the help only", got.Text)
		}
		subs := e.listSubscribers()
		i := slices.IndexFunc(subs, func(s apitype.Subscriber) bool { return s.Phone == shop })
		if i < 0 || subs[i].Status != "active" || !slices.Equal(subs[i].Zones, []string{"macon"}) {
			t.Errorf("the shop after a forged STOP: %+v", subs)
		}
		if got := e.phones.Received("0612345679"); len(got) != 0 {
			t.Errorf("replied to the alphanumeric sender: %+v", got)
		}
		list := string(e.mustVigie("inbox"))
		if strings.Count(list, "[expéditeur alphanumérique]") != 2 {
			t.Errorf("inbox does not mark both forged SMS:\n%s", list)
		}
		show := string(e.mustVigie("inbox", "show", fmt.Sprint(inboxFrom(in, "0612345679")[0].ID)))
		if !strings.Contains(show, "Expéditeur alphanumérique : pas un numéro de mobile") {
			t.Errorf("inbox show:\n%s", show)
		}
	})

	t.Run("reused concatenation reference", func(t *testing.T) {
		e.t = t
		// Parts 1 and 2 of an old message; its part 3 was lost.
		e.deliver(sim.Delivery{From: witness, Text: "Ancien message, ", Ref: 42, Total: 3, Seq: 1})
		e.deliver(sim.Delivery{From: witness, Text: "partie deux, ", Ref: 42, Total: 3, Seq: 2})
		// The phone's reference came round: a new message, the same one.
		for i, text := range []string{"Nouveau : ", "un homme ", "en rouge."} {
			e.deliver(sim.Delivery{From: witness, Text: text, Ref: 42, Total: 3, Seq: i + 1})
		}
		in := e.waitInbox("both messages", func(in []apitype.InboxMessage) bool { return len(inboxFrom(in, witness)) == 2 })
		var old, fresh apitype.InboxMessage
		for _, m := range inboxFrom(in, witness) {
			if len(m.Missing) > 0 {
				old = m
			} else {
				fresh = m
			}
		}
		if old.Text != "Ancien message, partie deux, " || !slices.Equal(old.Missing, []int{3}) || old.Parts != 3 {
			t.Errorf("old message = %+v", old)
		}
		if fresh.Text != "Nouveau : un homme en rouge." {
			t.Errorf("new message = %+v", fresh)
		}
		if !strings.Contains(string(e.mustVigie("inbox")), "[incomplet : partie 3 manquante (sur 3)] Ancien message, partie deux,") {
			t.Errorf("inbox:\n%s", e.mustVigie("inbox"))
		}
	})

	t.Run("incomplete SMS", func(t *testing.T) {
		e.t = t
		// Parts 1 and 4 of 4 come; 2 and 3 never do. "STOP" starts it:
		// cut, it is no keyword.
		e.deliver(sim.Delivery{From: late, Text: "STOP à l'arnaque ", Ref: 7, Total: 4, Seq: 1})
		e.deliver(sim.Delivery{From: late, Text: "merci.", Ref: 7, Total: 4, Seq: 4})
		in := e.waitInbox("the incomplete SMS", func(in []apitype.InboxMessage) bool { return len(inboxFrom(in, late)) == 1 })
		m := inboxFrom(in, late)[0]
		if m.Text != "STOP à l'arnaque merci." || !slices.Equal(m.Missing, []int{2, 3}) || m.Parts != 4 {
			t.Errorf("incomplete SMS = %+v", m)
		}
		if list := string(e.mustVigie("inbox")); !strings.Contains(list, "[incomplet : parties 2 et 3 manquantes (sur 4)] STOP à l'arnaque merci.") {
			t.Errorf("inbox:\n%s", list)
		}
		if show := string(e.mustVigie("inbox", "show", fmt.Sprint(m.ID))); !strings.Contains(show, "SMS incomplet : parties 2 et 3 manquantes (sur 4).") {
			t.Errorf("inbox show:\n%s", show)
		}
		subs := e.listSubscribers()
		if i := slices.IndexFunc(subs, func(s apitype.Subscriber) bool { return s.Phone == late }); i < 0 || subs[i].Status != "active" {
			t.Errorf("a cut SMS starting with STOP stopped the number: %+v", subs)
		}
		if got := e.phones.Received(late); len(got) != 1 {
			t.Errorf("%d SMS to %s, want its subscription reply only", len(got), late)
		}
		if !strings.Contains(journal.String(), "level=WARN msg=\"incomplete SMS") {
			t.Errorf("journal does not report the incomplete SMS:\n%s", journal.String())
		}
	})

	t.Run("journal at info level", func(t *testing.T) {
		e.t = t
		a := e.sendAlert("--zone", "macon", "Faux billets de 50 euros en circulation")
		if rep := e.waitAlert(a.ID); rep.Counts["sent"]+rep.Counts["delivered"] != len(numbers) {
			t.Errorf("alert report %+v", rep.Counts)
		}
		e.exchange(witness, "STOP", 4)
		log := journal.String()
		if !strings.Contains(log, "level=INFO") || !strings.Contains(log, "+33 6 ** ** ** 22") {
			t.Fatalf("journal without masked info lines:\n%s", log)
		}
		for _, n := range numbers {
			national := "0" + strings.TrimPrefix(n, "+33")
			for _, form := range []string{n, national, strings.TrimPrefix(n, "+")} {
				if strings.Contains(log, form) {
					t.Errorf("journal carries %s:\n%s", form, log)
				}
			}
		}
	})
}
