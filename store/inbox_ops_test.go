package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestInboxReadFlag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vigie.db")
	s := openTest(t, path)
	const alice, bob = "+33611111111", "+33622222222"

	witness := receive(t, s, alice, "J'ai vu l'homme à la veste rouge", t0)
	pending := receive(t, s, bob, "INSCRIPTION macon", t0.Add(time.Minute))
	help := receive(t, s, bob, "AIDE", t0.Add(2*time.Minute))
	for _, a := range []struct {
		in *Inbound
		e  Effect
	}{
		{witness, Effect{Outcome: "inbox", ToInbox: true}},
		{pending, Effect{Outcome: "subscribe-pending", ToInbox: true}},
		{help, Effect{Outcome: "help"}},
	} {
		if _, err := s.ApplyInbound(a.in.ID, a.e, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}

	es, err := s.InboxEntries()
	if err != nil || len(es) != 2 || es[0].ID != pending.ID || es[1].ID != witness.ID {
		t.Fatalf("InboxEntries = %+v, %v; want the two inbox SMS, newest first", es, err)
	}
	if es[0].Read() || es[1].Read() || es[0].Outcome != "subscribe-pending" || es[1].Text != witness.Text {
		t.Errorf("entries before reading: %+v", es)
	}

	readAt := t0.Add(2 * time.Hour)
	e, err := s.MarkRead(witness.ID, readAt)
	if err != nil || !e.ReadAt.Equal(readAt) || e.From != alice {
		t.Fatalf("MarkRead = %+v, %v", e, err)
	}
	// A second read keeps the first time.
	if e, err := s.MarkRead(witness.ID, readAt.Add(time.Hour)); err != nil || !e.ReadAt.Equal(readAt) {
		t.Errorf("MarkRead again = %+v, %v; want read at %v", e, err, readAt)
	}
	s.Close()

	// The flag is on disk, and the old Inbox still lists both.
	s = openTest(t, path)
	e, err = s.InboxEntry(witness.ID)
	if err != nil || !e.ReadAt.Equal(readAt) {
		t.Errorf("InboxEntry after reopen = %+v, %v; want read at %v", e, err, readAt)
	}
	if e, err := s.InboxEntry(pending.ID); err != nil || e.Read() {
		t.Errorf("InboxEntry(pending) = %+v, %v; want unread", e, err)
	}
	if ins, err := s.Inbox(); err != nil || len(ins) != 2 {
		t.Errorf("Inbox = %+v, %v", ins, err)
	}

	for _, id := range []uint64{help.ID, 99} {
		if _, err := s.InboxEntry(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("InboxEntry(%d): %v, want ErrNotFound", id, err)
		}
		if _, err := s.MarkRead(id, readAt); !errors.Is(err, ErrNotFound) {
			t.Errorf("MarkRead(%d): %v, want ErrNotFound", id, err)
		}
	}
}
