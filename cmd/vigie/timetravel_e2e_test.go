//go:build e2e

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
)

// sameMinute: the daemon dated at what the test clock said (within the
// time a CLI call and a send take).
func sameMinute(got, want time.Time) bool {
	return got.Sub(want).Abs() < time.Minute
}

func (e *env) alertReport(id uint64) apitype.AlertReport {
	e.t.Helper()
	return decodeJSON[apitype.AlertReport](e.t, e.mustVigie("alert", "show", fmt.Sprint(id), "--json"))
}

// The test clock carries the real daemon through fourteen months: what it
// records is dated in the past it lives in, and once it jumps to the
// present the care loop's retention purge ([retention] months = 12, the
// default) removes the messages and received SMS older than a year, keeps
// the alert's counts, and keeps what is younger.
func TestRetentionPurgesAfterTimeTravel(t *testing.T) {
	t.Parallel()
	past := time.Now().AddDate(0, -14, 0)
	e := start(t, envOptions{transliterate: true, testClock: true, clockStart: past})
	const alice = "+33611111111"
	e.exchange(alice, "INSCRIPTION macon-centre", 1)
	const question = "Bonjour, faut-il fermer le rideau ?"
	e.inject(alice, question)
	in := e.waitInbox("the question", func(in []apitype.InboxMessage) bool {
		for _, m := range in {
			if m.Text == question {
				return true
			}
		}
		return false
	})
	for _, m := range in {
		if !sameMinute(m.ReceivedAt, past) {
			t.Errorf("inbox %q received at %v, want the test clock's %v", m.Text, m.ReceivedAt, past)
		}
	}
	old := e.sendAlert("--zone", "macon", "Vol rue Carnot.")
	oldRep := e.waitAlert(old.ID)
	if len(oldRep.Messages) != 1 || !sameMinute(oldRep.CreatedAt, past) || !sameMinute(oldRep.Messages[0].SentAt, past) {
		t.Fatalf("alert %d 14 months ago: created %v, messages %+v; want one, both near %v", old.ID, oldRep.CreatedAt, oldRep.Messages, past)
	}

	// Six months ago: nothing is a year old yet, whatever purge ran.
	e.setClock(time.Now().AddDate(0, -6, 0))
	recent := e.sendAlert("--zone", "macon", "Fin d'alerte rue Carnot.")
	recentRep := e.waitAlert(recent.ID)
	if !sameMinute(recentRep.CreatedAt, e.now()) || len(recentRep.Messages) != 1 {
		t.Fatalf("alert %d 6 months ago: created %v (want %v), %d messages", recent.ID, recentRep.CreatedAt, e.now(), len(recentRep.Messages))
	}
	if rep := e.alertReport(old.ID); len(rep.Messages) != 1 {
		t.Fatalf("alert %d lost its message at 8 months old: %+v", old.ID, rep)
	}

	// Now: the purge runs at the care loop's next round (every 30 s).
	e.setClock(time.Now())
	deadline := time.Now().Add(90 * time.Second)
	for len(e.alertReport(old.ID).Messages) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("alert %d still has its 14-month-old message after 90 s\n%s", old.ID, e.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(e.logs.String(), "old history purged") {
		t.Errorf("no purge in the daemon's log")
	}
	if rep := e.alertReport(old.ID); rep.Recipients != 1 || rep.Counts["sent"]+rep.Counts["delivered"] != 1 {
		t.Errorf("alert %d after the purge: %d recipients, counts %v; want its figures kept", old.ID, rep.Recipients, rep.Counts)
	}
	if rep := e.alertReport(recent.ID); len(rep.Messages) != 1 {
		t.Errorf("alert %d, 6 months old, lost its message: %+v", recent.ID, rep)
	}
	if in := decodeJSON[[]apitype.InboxMessage](t, e.mustVigie("inbox", "--all", "--json")); len(in) != 0 {
		t.Errorf("inbox after the purge: %+v, want nothing (all 14 months old)", in)
	}
	if subs := e.listSubscribers(); len(subs) != 1 || subs[0].Phone != alice || subs[0].Status != "active" {
		t.Errorf("subscribers after the purge: %+v, want alice still active", subs)
	}
}

// The controllable clock is in the test build only: a binary built as the
// Makefile and the package build it (no tag) does not even hold the name of
// its variable, which the e2e binary does.
func TestProductionBinaryHasNoTestClock(t *testing.T) {
	t.Parallel()
	prod := filepath.Join(t.TempDir(), "vigie")
	build := exec.Command("go", "build", "-o", prod, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, b := range []struct {
		path string
		want bool
	}{{vigieBin, true}, {prod, false}} {
		data, err := os.ReadFile(b.path)
		if err != nil {
			t.Fatal(err)
		}
		// The soak's hooks (testsoak.go) are the test build's too.
		for _, name := range []string{"VIGIE_TEST_CLOCK", "VIGIE_TEST_CARE_TICK", "VIGIE_TEST_AVAILABILITY_TICK", "VIGIE_TEST_GOROUTINES"} {
			if got := bytes.Contains(data, []byte(name)); got != b.want {
				t.Errorf("%s holds %s: %t, want %t", b.path, name, got, b.want)
			}
		}
	}
}
