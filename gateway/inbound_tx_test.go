package gateway

import (
	"context"
	"fmt"
	"testing"
	"time"

	"vigie/modem"
	"vigie/store"
)

// modemReceived is part as the modem hands it over.
func modemReceived(p store.InboundPart) modem.Received {
	return modem.Received{Key: p.Key, From: p.From, SCTS: p.SCTS, Total: 1, Seq: 1, Text: p.Text}
}

// TestInboundOneTransaction: a single-part SMS read from the modem costs
// one read-write transaction (saved and applied together) where saving it
// then applying it took two; what it did is the same. The figures, reads
// included (the effect's look-ups), are logged for the report.
func TestInboundOneTransaction(t *testing.T) {
	for _, text := range []string{"STOP", "INSCRIPTION macon", "AIDE", "bonjour, j'ai vu le voleur"} {
		t.Run(text, func(t *testing.T) {
			measure := func(receive func(g *Gateway, w *worker, part store.InboundPart)) (views, updates int64, what string) {
				g, st, _ := newGateway(t, "open")
				w := &worker{g: g, log: g.log}
				part := store.InboundPart{Key: "k-" + text, From: "+33612345678", SCTS: time.Now(), Total: 1, Seq: 1,
					Text: text, ReceivedAt: time.Now()}
				v0, u0 := st.TxCounts()
				receive(g, w, part)
				v1, u1 := st.TxCounts()
				ins, err := st.Inbox()
				if err != nil {
					t.Fatal(err)
				}
				left, err := st.Unprocessed()
				if err != nil || len(left) != 0 {
					t.Fatalf("unprocessed after handling: %v, %v", left, err)
				}
				sent, err := st.RepliesToday("+33612345678", time.Now())
				if err != nil {
					t.Fatal(err)
				}
				var outcome string
				if len(ins) > 0 {
					outcome = ins[0].Outcome
				}
				sub, _, err := st.Subscriber("+33612345678")
				if err != nil {
					t.Fatal(err)
				}
				return v1 - v0, u1 - u0, fmt.Sprintf("inbox %d %q, %d replies, subscriber %q", len(ins), outcome, sent, sub.Status)
			}
			// Before: SaveInboundPart, then handleInbound's ApplyInbound.
			bv, bu, bout := measure(func(g *Gateway, _ *worker, part store.InboundPart) {
				in, _, err := g.store.SaveInboundPart(part)
				if err != nil || in == nil {
					t.Fatalf("save: %v", err)
				}
				if err := g.handleInbound(*in); err != nil {
					t.Fatal(err)
				}
			})
			av, au, aout := measure(func(_ *Gateway, w *worker, part store.InboundPart) {
				if err := w.handleStored(context.Background(), modemReceived(part)); err != nil {
					t.Fatal(err)
				}
			})
			t.Logf("%q: store transactions per inbound SMS: before %d (%d writes), after %d (%d writes)", text, bv+bu, bu, av+au, au)
			if bu != 2 || au != 1 || av > bv {
				t.Errorf("writes before %d, after %d; reads before %d, after %d", bu, au, bv, av)
			}
			if aout != bout {
				t.Errorf("replies differ: before %s, after %s", bout, aout)
			}
		})
	}
}
