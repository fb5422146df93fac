package gateway

// Send outcomes (issue 12, point 6): only an answer that says so fails a
// message for good; what comes after the PDU went out and says nothing
// clear is retried once at most, marked uncertain, and never "failed".

import (
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/modem/sim"
	"vigie/store"
)

// A bare ERROR after the PDU from a modem that did send it: one retry, marked
// uncertain (the shop has two copies), the other shops untouched.
func TestStrayErrorAfterPDUIsRetriedOnceUncertain(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{})
	r.waitModem("ready", 10*time.Second, ready)
	r.phones.ErrorAfterPDU(1, true)
	a, shops := r.alert(3, "vol à l'étalage")
	counts := r.finished(a.ID, 20*time.Second)
	if gone(counts) != 3 || counts["failed"] != 0 {
		t.Errorf("counts %v, want all 3 out, none failed", counts)
	}
	msgs, err := r.st.AlertMessages(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	uncertain := 0
	for _, m := range msgs {
		if m.Uncertain {
			uncertain++
			if m.Attempts != 2 || len(m.Refs) != 1 || !strings.Contains(m.LastError, "ERROR") {
				t.Errorf("uncertain message %+v: want sent on its second attempt, the bare ERROR kept", m)
			}
			if got := r.phones.Received(m.To); len(got) != 2 {
				t.Errorf("%s got %d SMS, want 2 (the doubtful one went out)", m.To, len(got))
			}
		}
	}
	if uncertain != 1 {
		t.Errorf("%d messages uncertain, want 1", uncertain)
	}
	for _, p := range shops {
		r.waitPhones(p, 1)
	}
	// The modem answered: no reopen for a stray ERROR.
	if m := r.modem(); m.Reopens != 0 {
		t.Errorf("health %+v: want no reopen", m)
	}
}

// Two bare ERRORs after the PDU in a row: the message is taken as sent and
// marked uncertain, never failed; no third copy is risked.
func TestStrayErrorsAfterPDUNeverFail(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{})
	r.waitModem("ready", 10*time.Second, ready)
	r.phones.ErrorAfterPDU(2, false)
	a, shops := r.alert(1, "escroquerie au faux policier")
	counts := r.finished(a.ID, 20*time.Second)
	if counts["sent"] != 1 || counts["failed"] != 0 {
		t.Errorf("counts %v, want 1 sent (unconfirmed), none failed", counts)
	}
	m, err := r.st.AlertMessages(a.ID)
	if err != nil || len(m) != 1 {
		t.Fatalf("messages %+v, %v", m, err)
	}
	if m[0].State != store.StateSent || !m[0].Uncertain || m[0].Attempts != 2 || len(m[0].Refs) != 0 {
		t.Errorf("message %+v: want sent, uncertain, 2 attempts, no reference", m[0])
	}
	// The sim's network never took it; a third try was not made.
	if got := r.phones.Received(shops[0]); len(got) != 0 || r.phones.CommandCount("+CMGS=") != 2 {
		t.Errorf("%s got %v after %d +CMGS, want nothing after 2", shops[0], got, r.phones.CommandCount("+CMGS="))
	}
}

// An answer lost after the PDU went out (the network slower than
// send_timeout): the modem is started over, the message retried once,
// then taken as sent and uncertain; never failed.
func TestLostAnswerAfterPDUIsUncertain(t *testing.T) {
	t.Parallel()
	r := newRig(t, `send_timeout = "1s"`, sim.Options{SendDelay: 1500 * time.Millisecond})
	r.readyAndListed()
	a, shops := r.alert(1, "cambriolage en cours")
	counts := r.finished(a.ID, 30*time.Second)
	if counts["sent"] != 1 || counts["failed"] != 0 {
		t.Errorf("counts %v, want 1 sent (unconfirmed), none failed", counts)
	}
	msgs, _ := r.st.AlertMessages(a.ID)
	if len(msgs) != 1 || !msgs[0].Uncertain || msgs[0].Attempts != 2 {
		t.Errorf("messages %+v: want one, uncertain, after 2 attempts", msgs)
	}
	r.waitPhones(shops[0], 1)
	if m := r.modem(); m.Timeouts == 0 || m.Reopens == 0 {
		t.Errorf("health %+v: want the timeouts counted and the modem reopened", m)
	}
	r.waitModem("ready again", 10*time.Second, func(m apitype.ModemStatus) bool { return ready(m) })
}
