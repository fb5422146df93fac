package main

import (
	"bytes"
	"strings"
	"testing"

	"vigie/gateway/apitype"
)

func TestInboxNotes(t *testing.T) {
	for _, c := range []struct {
		m    apitype.InboxMessage
		want string
	}{
		{apitype.InboxMessage{From: "+33612345678"}, ""},
		{apitype.InboxMessage{From: "0612345679", FromKind: apitype.SenderAlphanumeric}, "expéditeur alphanumérique"},
		{apitype.InboxMessage{From: "36179", FromKind: apitype.SenderShortCode}, "numéro court"},
		{apitype.InboxMessage{From: "+33385123456", FromKind: apitype.SenderInvalid}, "numéro non valide"},
		{apitype.InboxMessage{Missing: []int{2}, Parts: 2}, "incomplet : partie 2 manquante (sur 2)"},
		{apitype.InboxMessage{Missing: []int{2, 3}, Parts: 4}, "incomplet : parties 2 et 3 manquantes (sur 4)"},
		{apitype.InboxMessage{Missing: []int{1, 3, 4}, Parts: 5}, "incomplet : parties 1, 3 et 4 manquantes (sur 5)"},
		{apitype.InboxMessage{FromKind: apitype.SenderAlphanumeric, Missing: []int{1}}, "expéditeur alphanumérique ; incomplet : partie 1 manquante"},
	} {
		if got := inboxNote(c.m); got != c.want {
			t.Errorf("inboxNote(%+v) = %q, want %q", c.m, got, c.want)
		}
	}
}

func TestInboxShowsMarks(t *testing.T) {
	m := apitype.InboxMessage{ID: 3, From: "0612345679", FromKind: apitype.SenderAlphanumeric, Text: "STOP", Outcome: apitype.OutcomeInbox, Missing: []int{2, 3}, Parts: 3}
	var list, show bytes.Buffer
	printInbox(&list, []apitype.InboxMessage{m}, false)
	printInboxMessage(&show, m)
	for _, want := range []string{"[expéditeur alphanumérique ; incomplet : parties 2 et 3 manquantes (sur 3)] STOP"} {
		if !strings.Contains(list.String(), want) {
			t.Errorf("list %q lacks %q", list.String(), want)
		}
	}
	for _, want := range []string{"Expéditeur alphanumérique : pas un numéro de mobile", "aucune réponse n'est partie", "SMS incomplet : parties 2 et 3 manquantes (sur 3). Le texte"} {
		if !strings.Contains(show.String(), want) {
			t.Errorf("show %q lacks %q", show.String(), want)
		}
	}
}
