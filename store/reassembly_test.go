package store

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// part is one part of a concatenated SMS from alice at t0+at.
func part(key string, ref, total, seq int, text string, at time.Duration) InboundPart {
	return InboundPart{
		Key: key, From: alice, ConcatRef: ref, Total: total, Seq: seq, Text: text,
		SCTS: t0.Add(at), ReceivedAt: t0.Add(at),
	}
}

// saveAll saves ps in order and returns the messages that came out.
func saveAll(t *testing.T, s *Store, ps ...InboundPart) []Inbound {
	t.Helper()
	var out []Inbound
	for _, p := range ps {
		in, _, err := s.SaveInboundPart(p)
		if err != nil {
			t.Fatalf("SaveInboundPart(%+v): %v", p, err)
		}
		if in != nil {
			out = append(out, *in)
		}
	}
	return out
}

// A phone reuses its 8-bit reference: parts left from an earlier message
// are never glued to a new one with the same reference.
func TestReusedReferenceStartsANewMessage(t *testing.T) {
	s := newTest(t)
	// Parts 1 and 2 of an old message; part 3 never came.
	got := saveAll(t, s,
		part("old1", 9, 3, 1, "Ancien ", 0),
		part("old2", 9, 3, 2, "message ", time.Second),
		// A new message, same reference, same part count, a minute later.
		part("new1", 9, 3, 1, "Nouveau ", time.Minute),
	)
	if len(got) != 1 || got[0].Text != "Ancien message " || !slices.Equal(got[0].Missing, []int{3}) || got[0].Parts != 3 {
		t.Fatalf("old message closed as %+v, want its two parts marked incomplete", got)
	}
	got = saveAll(t, s,
		part("new2", 9, 3, 2, "texte ", time.Minute+time.Second),
		part("new3", 9, 3, 3, "entier.", time.Minute+2*time.Second),
	)
	if len(got) != 1 || got[0].Text != "Nouveau texte entier." || got[0].Incomplete() {
		t.Fatalf("new message = %+v", got)
	}
}

// Parts further apart than the window, by arrival or by SCTS, are two
// messages; the same part re-sent under another key is one.
func TestPartsBelongTogetherWithinTheWindow(t *testing.T) {
	for _, tc := range []struct {
		name        string
		second      InboundPart
		messages    int
		firstClosed bool
	}{
		{"within", part("b", 4, 2, 2, "deux", 59*time.Minute), 1, false},
		{"arrived too late", part("b", 4, 2, 2, "deux", 61*time.Minute), 1, true},
		{"stamped too late", func() InboundPart {
			p := part("b", 4, 2, 2, "deux", time.Minute)
			p.SCTS = t0.Add(2 * time.Hour)
			return p
		}(), 1, true},
		{"shorter window", func() InboundPart {
			p := part("b", 4, 2, 2, "deux", 2*time.Minute)
			p.Window = time.Minute
			return p
		}(), 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTest(t)
			got := saveAll(t, s, part("a", 4, 2, 1, "un ", 0), tc.second)
			if len(got) != tc.messages {
				t.Fatalf("messages %+v", got)
			}
			if tc.firstClosed {
				if got[0].Text != "un " || !slices.Equal(got[0].Missing, []int{2}) {
					t.Errorf("first part closed as %+v", got[0])
				}
				// The late part waits as the start of another message.
				left, err := s.ExpireIncompleteParts(t0.Add(10*time.Hour), 0)
				if err != nil || len(left) != 1 || left[0].Text != "deux" || !slices.Equal(left[0].Missing, []int{1}) {
					t.Errorf("late part expired as %+v, %v", left, err)
				}
			} else if got[0].Text != "un deux" || got[0].Incomplete() {
				t.Errorf("message %+v", got[0])
			}
		})
	}
	t.Run("re-sent part", func(t *testing.T) {
		s := newTest(t)
		got := saveAll(t, s,
			part("a", 4, 2, 1, "un ", 0),
			part("a-again", 4, 2, 1, "un ", time.Second),
			part("b", 4, 2, 2, "deux", 2*time.Second),
		)
		if len(got) != 1 || got[0].Text != "un deux" || got[0].Incomplete() {
			t.Errorf("messages %+v", got)
		}
	})
}

// An alphanumeric sender that spells a number is another sender than that
// number: their parts never join.
func TestPartsOfAlphanumericSenderApart(t *testing.T) {
	s := newTest(t)
	alpha := part("x1", 1, 2, 1, "FAUX ", 0)
	alpha.From, alpha.FromKind = "0611111111", "alphanumeric"
	number := part("n2", 1, 2, 2, "vrai", time.Second)
	number.From = "0611111111"
	if got := saveAll(t, s, alpha, number); len(got) != 0 {
		t.Fatalf("joined: %+v", got)
	}
	got, err := s.ExpireIncompleteParts(t0.Add(2*time.Hour), time.Hour)
	if err != nil || len(got) != 2 {
		t.Fatalf("expired %+v, %v", got, err)
	}
	for _, in := range got {
		if (in.FromKind == "alphanumeric") != (in.Text == "FAUX ") {
			t.Errorf("message %+v", in)
		}
	}
}

// The sweep closes what waited past the window, and only that; the closed
// message is unprocessed, to be handled (the inbox) like any other.
func TestExpireIncompleteParts(t *testing.T) {
	s := newTest(t)
	saveAll(t, s,
		part("a2", 1, 4, 2, "deux ", 0),
		part("a4", 1, 4, 4, "quatre", time.Second),
		part("b1", 2, 2, 1, "récent", 30*time.Minute),
	)
	got, err := s.ExpireIncompleteParts(t0.Add(59*time.Minute), time.Hour)
	if err != nil || len(got) != 0 {
		t.Fatalf("before the window: %+v, %v", got, err)
	}
	got, err = s.ExpireIncompleteParts(t0.Add(61*time.Minute), time.Hour)
	if err != nil || len(got) != 1 {
		t.Fatalf("after the window: %+v, %v", got, err)
	}
	in := got[0]
	if in.Text != "deux quatre" || !slices.Equal(in.Missing, []int{1, 3}) || in.Parts != 4 || in.From != alice || in.ID == 0 {
		t.Errorf("closed as %+v", in)
	}
	if un, err := s.Unprocessed(); err != nil || len(un) != 1 || un[0].ID != in.ID || !slices.Equal(un[0].Missing, []int{1, 3}) {
		t.Errorf("Unprocessed = %+v, %v", un, err)
	}
	// The late part of an expired message starts a message of its own.
	if got := saveAll(t, s, part("a1", 1, 4, 1, "un ", 62*time.Minute)); len(got) != 0 {
		t.Errorf("late part: %+v", got)
	}
}

// Parts stored by a Vigie before sender kinds and windows existed are
// still joined and expired.
func TestOldStoredPartsStillReadable(t *testing.T) {
	s := newTest(t)
	// The JSON of an old part: no from_kind field.
	old := map[string]any{
		"key": "old", "from": alice, "scts": t0, "concat_ref": 5, "total": 2, "seq": 1,
		"text": "Bonjour ", "received_at": t0,
	}
	for _, ref := range []int{5, 6} {
		old["concat_ref"] = ref
		data, err := json.Marshal(old)
		if err != nil {
			t.Fatal(err)
		}
		p := InboundPart{From: alice, ConcatRef: ref, Total: 2}
		key := append(partsPrefix(p), 0, 0, 0, 1)
		if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketParts).Put(key, data) }); err != nil {
			t.Fatal(err)
		}
	}
	if got := saveAll(t, s, part("new", 5, 2, 2, "à tous", time.Minute)); len(got) != 1 || got[0].Text != "Bonjour à tous" {
		t.Errorf("old part joined as %+v", got)
	}
	got, err := s.ExpireIncompleteParts(t0.Add(2*time.Hour), 0)
	if err != nil || len(got) != 1 || got[0].Text != "Bonjour " || !slices.Equal(got[0].Missing, []int{2}) {
		t.Errorf("old part expired as %+v, %v", got, err)
	}
}

var token = regexp.MustCompile(`<s(\d)r(\d)g(\d+)p(\d+)>`)

// FuzzReassembly plays parts as phones and networks deliver them: in any
// order, read again, missing, references reused, hours apart, from senders
// that share digits but not kind. Invariants: no panic and no error; every
// part's text ends in exactly one message, complete or incomplete, once
// the window has passed; a message holds parts of one sender only, and its
// Missing is exactly the parts it lacks.
func FuzzReassembly(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 1, 0, 0, 2})
	f.Add([]byte{0, 1, 2, 4, 0, 0, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 1, 2})
	f.Add([]byte{0, 0, 0, 12, 90, 1, 0, 0, 1, 0, 0, 2})
	f.Add([]byte{1, 0, 0, 2, 0, 0, 6, 0, 0, 4, 0, 0, 13, 255, 0, 1, 0, 1})
	f.Add([]byte{0, 0, 1, 8, 0, 0, 0, 0, 1, 0, 0, 2, 5, 0, 0, 9, 0, 0})
	s, err := open(filepath.Join(f.TempDir(), "fuzz.db"), true)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	senders := []struct{ from, kind string }{
		{"+33611111111", ""}, {"+33622222222", ""}, {"+33611111111", "alphanumeric"},
	}
	var run int
	f.Fuzz(func(t *testing.T, script []byte) {
		run++
		now := t0.Add(time.Duration(run) * 1000 * time.Hour) // runs never share a window
		type msgKey struct{ s, ref int }
		type gen struct{ g, total int }
		gens := map[msgKey]*gen{}
		delivered := map[string]bool{} // tokens
		var last *InboundPart
		var out []Inbound
		keep := func(in *Inbound) {
			if in != nil {
				out = append(out, *in)
			}
		}
		for len(script) >= 3 {
			op, a, b := script[0], int(script[1]), int(script[2])
			script = script[3:]
			sender := int(op) % len(senders)
			switch (op >> 2) % 4 {
			case 0, 1: // a part of the current message of (sender, ref)
				k := msgKey{sender, a % 2}
				g := gens[k]
				if g == nil {
					g = &gen{total: 2 + b%3}
					gens[k] = g
				}
				seq := 1 + b%g.total
				tok := fmt.Sprintf("<s%dr%dg%dp%d>", sender, k.ref, g.g, seq)
				if delivered[tok] {
					continue
				}
				delivered[tok] = true
				p := InboundPart{
					Key: fmt.Sprintf("%d%s", run, tok), From: senders[sender].from, FromKind: senders[sender].kind,
					ConcatRef: 200 + k.ref, Total: g.total, Seq: seq, Text: tok, SCTS: now, ReceivedAt: now,
				}
				last = &p
				in, dup, err := s.SaveInboundPart(p)
				if err != nil || dup {
					t.Fatalf("SaveInboundPart(%+v): dup %v, %v", p, dup, err)
				}
				keep(in)
			case 2: // the last part read again (listed again before deletion)
				if last == nil {
					continue
				}
				in, dup, err := s.SaveInboundPart(*last)
				if err != nil || !dup || in != nil {
					t.Fatalf("re-read %+v: %+v, dup %v, %v", last, in, dup, err)
				}
			case 3: // time passes; the sweep may run; a reference is reused
				now = now.Add(time.Duration(a) * time.Minute)
				if b&1 != 0 {
					ins, err := s.ExpireIncompleteParts(now, 0)
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, ins...)
				}
				if b&2 != 0 {
					k := msgKey{sender, (b >> 2) % 2}
					if g := gens[k]; g != nil {
						g.g++
						g.total = 2 + (b>>3)%3
					}
				}
			}
		}
		ins, err := s.ExpireIncompleteParts(now.Add(2*DefaultConcatWindow), 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ins...)

		found := map[string]int{}
		for _, in := range out {
			ms := token.FindAllStringSubmatch(in.Text, -1)
			if len(ms) == 0 || len(ms)*len(ms[0][0]) != len(in.Text) {
				t.Fatalf("message %q is not whole parts", in.Text)
			}
			seqs := map[int]bool{}
			for _, m := range ms {
				found[m[0]]++
				sender, _ := strconv.Atoi(m[1])
				if senders[sender].from != in.From || senders[sender].kind != in.FromKind {
					t.Fatalf("part %s of sender %d in a message from %q (%q): %q", m[0], sender, in.From, in.FromKind, in.Text)
				}
				if ms[0][1] != m[1] {
					t.Fatalf("parts of two senders joined: %q", in.Text)
				}
				seq, _ := strconv.Atoi(m[4])
				if seqs[seq] {
					t.Fatalf("part %d twice in %q", seq, in.Text)
				}
				seqs[seq] = true
			}
			if in.Incomplete() {
				for _, seq := range in.Missing {
					if seqs[seq] {
						t.Fatalf("part %d both present and missing in %+v", seq, in)
					}
				}
				if len(seqs)+len(in.Missing) != in.Parts {
					t.Fatalf("%d parts and %v missing of %d: %+v", len(seqs), in.Missing, in.Parts, in)
				}
			} else if len(ms) > 1 && in.Parts != 0 {
				t.Fatalf("complete message with Parts set: %+v", in)
			}
		}
		for tok := range delivered {
			if found[tok] != 1 {
				t.Fatalf("part %s in %d messages, want exactly one (%d messages)", tok, found[tok], len(out))
			}
		}
		if len(found) != len(delivered) {
			t.Fatalf("%d parts came out, %d went in", len(found), len(delivered))
		}
		if err := s.db.View(func(tx *bolt.Tx) error {
			if k, _ := tx.Bucket(bucketParts).Cursor().First(); k != nil {
				return fmt.Errorf("parts left after the window: %q", k)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}
