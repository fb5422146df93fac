//go:build e2e

package main

// Send outcomes and retries (issue 12, points 6 and 7), through the real
// daemon, the real CLI and the simulated modem on its pty.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
)

// A stray bare ERROR after the "> " prompt, once the PDU is out, is never
// reported as failed for good: the message is retried once and marked
// uncertain, or taken as sent unconfirmed; `alert show` never lists its shop
// among those who did not get the alert.
func TestStrayErrorAfterPromptNeverReportedAsNotReceived(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	const alice, bob, carole = "+33611111111", "+33622222222", "+33633333333"
	e.exchange(alice, "INSCRIPTION macon-centre", 1)
	e.exchange(bob, "INSCRIPTION macon-centre", 1)
	e.exchange(carole, "INSCRIPTION macon-nord", 1)

	// The modem sent it all the same: one retry, a second copy, uncertain.
	e.phones.ErrorAfterPDU(1, true)
	a1 := e.sendAlert("--zone", "macon-centre", "--category", "vol", "vol à l'étalage rue Carnot.")
	rep1 := e.waitAlert(a1.ID)
	if rep1.Counts["failed"] != 0 || rep1.Counts["sent"]+rep1.Counts["delivered"] != 2 {
		t.Errorf("alert 1 counts %v, want both out, none failed", rep1.Counts)
	}
	doubtful := ""
	for _, m := range rep1.Messages {
		if m.Uncertain {
			doubtful = m.To
			if m.Attempts != 2 {
				t.Errorf("uncertain message %+v: want its one retry", m)
			}
		}
	}
	if doubtful == "" {
		t.Fatalf("no message marked uncertain in %+v", rep1.Messages)
	}
	e.waitSMS(doubtful, 3) // the reply, then the alert twice
	out := string(e.mustVigie("alert", "show", fmt.Sprint(a1.ID)))
	if !strings.Contains(out, "incertain : peut-être reçu deux fois") {
		t.Errorf("alert show lacks the doubt:\n%s", out)
	}
	notReceived(t, out)

	// To one shop, the modem answers a bare ERROR twice and the network
	// never had it: no third try, taken as sent unconfirmed, still never
	// "failed".
	tries := e.phones.CommandCount("+CMGS=")
	e.phones.ErrorAfterPDU(2, false)
	a2 := e.sendAlert("--zone", "macon-nord", "--category", "vol", "escroquerie au faux policier.")
	rep2 := e.waitAlert(a2.ID)
	if rep2.Counts["failed"] != 0 || rep2.Counts["sent"] != 1 || len(rep2.Messages) != 1 {
		t.Fatalf("alert 2 counts %v, want one sent, none failed", rep2.Counts)
	}
	if m := rep2.Messages[0]; m.State != "sent" || !m.Uncertain || len(m.Refs) != 0 || m.Attempts != 2 {
		t.Errorf("alert 2 message %+v: want sent unconfirmed after 2 attempts", m)
	}
	if n := e.phones.CommandCount("+CMGS=") - tries; n != 2 {
		t.Errorf("%d +CMGS for the unconfirmed message, want 2: one retry at most", n)
	}
	out = string(e.mustVigie("alert", "show", fmt.Sprint(a2.ID)))
	if !strings.Contains(out, "envoi non confirmé") || !strings.Contains(out, "il a pu être reçu") {
		t.Errorf("alert show lacks the unconfirmed send:\n%s", out)
	}
	notReceived(t, out)
}

// notReceived fails if the human report says a shop did not get the alert.
func notReceived(t *testing.T, out string) {
	t.Helper()
	for _, never := range []string{"pas reçu", "échec définitif", "échec ("} {
		if strings.Contains(out, never) {
			t.Errorf("alert show says %q of a message that may have gone out:\n%s", never, out)
		}
	}
}

// With 30 % of sends refused by a congested cell (+CMS ERROR: 38 or 500 at
// random), every subscription reply still leaves within a minute of its
// INSCRIPTION: temporary failures are retried within seconds.
func TestRepliesUnderThirtyPercentErrorsLeaveWithinAMinute(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	e.phones.FailRateCodes(0.3, 38, 500)
	const n = 20
	phones := make([]string, n)
	for i := range phones {
		phones[i] = fmt.Sprintf("+336120000%02d", i)
	}
	begin := time.Now()
	for _, p := range phones {
		if err := e.phones.Inject(p, "INSCRIPTION macon"); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), begin.Add(time.Minute))
	defer cancel()
	for _, p := range phones {
		got, err := e.phones.WaitReceived(ctx, p, 1)
		if err != nil {
			t.Fatalf("%s: no reply within a minute of its INSCRIPTION: %v (got %d)\n%s", p, err, len(got), e.logs.String())
		}
		if !strings.Contains(got[0].Text, "STOP") {
			t.Errorf("%s: reply %q", p, got[0].Text)
		}
	}
	// The cell did refuse some: the retries are what this test is about.
	if tries := e.phones.CommandCount("+CMGS="); tries <= n {
		t.Errorf("%d +CMGS for %d replies: the fault injection did not bite", tries, n)
	}
	var st apitype.Status
	if err := json.Unmarshal(e.mustVigie("status", "--json"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Queue["failed"] != 0 {
		t.Errorf("queue %v: want no reply failed", st.Queue)
	}
}
