package gateway

// Retry policy (issue 12, point 7): a message refused for a temporary
// reason, with nothing else due, leaves again at once when its retry is due
// within the time of one send, instead of idling the modem until then.

import (
	"strings"
	"testing"
	"time"

	"vigie/modem/sim"
	"vigie/store"
)

// The daemon's clock is frozen: a retry whose due time comes only with the
// clock would never leave. The lone message is refused once (+CMS 38, seed
// 1 of the sim refuses its first send and takes its second) by a modem
// that takes 300 ms a send; its retry, due 200 ms later (the base), goes at
// once.
func TestLoneRetryDueWithinOneSendGoesAtOnce(t *testing.T) {
	t.Parallel()
	frozen := time.Now()
	phones := sim.New(sim.Options{SendDelay: 300 * time.Millisecond, Seed: 1})
	t.Cleanup(func() { phones.Close() })
	r := newRigConfig(t, func(text, _ string) string { return text },
		Options{Now: func() time.Time { return frozen }, RetryBase: 200 * time.Millisecond}, phones)
	r.waitModem("ready", 10*time.Second, ready)
	phones.FailRate(38, 0.5)
	a, shops := r.alert(1, "vol à l'étalage")
	r.waitPhones(shops[0], 1)
	counts := r.finished(a.ID, 10*time.Second)
	if gone(counts) != 1 {
		t.Errorf("counts %v, want the one message out", counts)
	}
	msgs, err := r.st.AlertMessages(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m := msgs[0]; m.Attempts != 2 || !strings.Contains(m.LastError, "38") || (m.State != store.StateSent && m.State != store.StateDelivered) {
		t.Errorf("message %+v: want sent on its second attempt, after the +CMS ERROR: 38", m)
	}
	if n := phones.CommandCount("+CMGS"); n != 2 {
		t.Errorf("%d +CMGS, want 2: one refused, one sent", n)
	}
}

// The lead is the time of one send, never more than the retry base: a
// backed-off retry, waiting for trouble that lasts, comes at most one base
// early; before any send was answered there is none.
func TestLeadIsOneSendAtMostTheBase(t *testing.T) {
	for _, c := range []struct{ send, base, want time.Duration }{
		{0, time.Second, 0},
		{300 * time.Millisecond, time.Second, 300 * time.Millisecond},
		{6 * time.Second, time.Second, time.Second},
	} {
		w := &worker{g: &Gateway{retry: c.base}, sendTime: c.send}
		if got := w.lead(); got != c.want {
			t.Errorf("lead with a send of %v and a base of %v = %v, want %v", c.send, c.base, got, c.want)
		}
	}
}
