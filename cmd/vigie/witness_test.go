package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
)

// Witness replies are listed under their alert, the other messages as
// before.
func TestInboxGroupsWitnessReplies(t *testing.T) {
	at := time.Date(2026, 3, 14, 9, 30, 0, 0, time.Local)
	alertAt := time.Date(2026, 3, 14, 9, 0, 0, 0, time.Local)
	ms := []apitype.InboxMessage{
		{ID: 5, From: "+33611111111", Text: "vu vers la gare", ReceivedAt: at, Outcome: apitype.OutcomeInbox, AlertID: 12, AlertCreatedAt: alertAt},
		{ID: 4, From: "+33622222222", Text: "bonjour", ReceivedAt: at, Outcome: apitype.OutcomeInbox},
		{ID: 3, From: "+33633333333", Text: "rien vu\x1b[2J", ReceivedAt: at, Outcome: apitype.OutcomeInbox, AlertID: 12, AlertCreatedAt: alertAt},
	}
	var b bytes.Buffer
	printInbox(&b, ms, false)
	want := "3 messages non lus\n" +
		"*    4  14/03 09:30  +33622222222   message                bonjour\n" +
		"Réponses à l'alerte n° 12 du 14/03/2026 09:00 :\n" +
		"*    5  14/03 09:30  +33611111111   réponse                vu vers la gare\n"
	if got := b.String(); !strings.HasPrefix(got, want) {
		t.Errorf("inbox:\n%s\nwant it to start with:\n%s", got, want)
	}
	if strings.Contains(b.String(), "\x1b") {
		t.Errorf("an SMS's control character reached the terminal: %q", b.String())
	}
	b.Reset()
	printInboxMessage(&b, ms[0])
	if want := "Réponse à l'alerte n° 12 du 14/03/2026 09:00 (vigie alert show 12)\n"; !strings.Contains(b.String(), want) {
		t.Errorf("inbox show:\n%s\nlacks %q", b.String(), want)
	}
}

// alert show lists the replies with the shop, and says how many were
// purged.
func TestAlertReportReplies(t *testing.T) {
	at := time.Date(2026, 3, 14, 9, 30, 0, 0, time.Local)
	rep := apitype.AlertReport{Alert: apitype.Alert{ID: 12, ReplyCount: 3}, Replies: []apitype.Reply{
		{From: "+33611111111", ReceivedAt: at, Name: "Tabac du Centre", Text: "vu vers\nla gare"},
		{From: "+33622222222", ReceivedAt: at, Trade: "Pharmacie", Zones: []string{"Mâcon"}, Text: "rien"},
	}}
	var b bytes.Buffer
	printReplies(&b, rep)
	want := "3 réponses de commerçants :\n" +
		"  14/03 09:30  06 11 11 11 11   Tabac du Centre\n" +
		"    « vu vers\n      la gare »\n" +
		"  14/03 09:30  06 22 22 22 22   Pharmacie, Mâcon\n" +
		"    « rien »\n" +
		"  (1 réponse effacée par la purge de [retention])\n"
	if got := b.String(); got != want {
		t.Errorf("replies:\n%q\nwant:\n%q", got, want)
	}
	b.Reset()
	printReplies(&b, apitype.AlertReport{})
	if b.Len() != 0 {
		t.Errorf("an alert without replies printed %q", b.String())
	}
}

// The live progress counts the replies as they come; none, nothing said.
func TestProgressCountsReplies(t *testing.T) {
	p := progressOf(apitype.Alert{Recipients: 3, Counts: map[string]int{"delivered": 3}, ReplyCount: 2})
	if got, want := p.line(0, false), "envoyés 3/3, remis 3, échecs 0, restant 0, 2 réponses de commerçants"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	if got := p.bar(time.Second, 0, false); !strings.HasSuffix(got, ", 2 réponses de commerçants") {
		t.Errorf("bar = %q", got)
	}
	p.replies = 0
	if got := p.line(0, false); strings.Contains(got, "réponse") {
		t.Errorf("line without replies = %q", got)
	}
}

// status puts unread witness replies apart from the other messages.
func TestStatusWitnessUnread(t *testing.T) {
	for _, tc := range []struct {
		unread, witness int
		want            []string
	}{
		{2, 0, []string{"Boîte de réception : 2 messages non lus de commerçants — à lire avec vigie inbox"}},
		{3, 1, []string{"Réponses aux alertes : 1 réponse non lue — à lire avec vigie inbox",
			"Boîte de réception : 2 autres messages non lus de commerçants"}},
		{2, 2, []string{"Réponses aux alertes : 2 réponses non lues", "Boîte de réception : aucun autre message non lu"}},
	} {
		var b bytes.Buffer
		printStatus(&b, apitype.Status{InboxUnread: tc.unread, WitnessUnread: tc.witness})
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("status with %d unread, %d witness: lacks %q:\n%s", tc.unread, tc.witness, w, b.String())
			}
		}
	}
}
