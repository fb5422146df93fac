package main

import (
	"bytes"
	"context"
	"testing"

	"vigie/gateway/apitype"
)

// cancelDaemon cancels n messages of alert 7.
type cancelDaemon struct {
	*fakeDaemon
	n int
}

func (d cancelDaemon) CancelAlert(_ context.Context, _ uint64, _ string) (apitype.CancelResult, error) {
	return apitype.CancelResult{Cancelled: d.n}, nil
}

// What a cancel says: how many were stopped, agreeing; never « 0 SMS
// annulés », but why there was nothing to cancel.
func TestCancelSays(t *testing.T) {
	for _, c := range []struct {
		name   string
		n      int
		counts map[string]int
		want   string
	}{
		{"several", 3, nil, "Alerte 7 : 3 SMS annulés avant leur envoi ; ceux déjà partis ne peuvent pas être rappelés.\n"},
		{"one", 1, nil, "Alerte 7 : 1 SMS annulé avant son envoi ; ceux déjà partis ne peuvent pas être rappelés.\n"},
		{"finished", 0, map[string]int{"delivered": 1}, "Alerte 7 déjà terminée : il n'y a plus rien à annuler (1 SMS parti). Compte rendu : vigie alert show 7\n"},
		{"last ones being sent", 0, map[string]int{"sending": 2, "sent": 5},
			"Alerte 7 : rien à annuler, les derniers SMS sont en cours d'envoi et ne peuvent plus être arrêtés. Suivi : vigie alert show 7\n"},
	} {
		socket := serveFakeBackend(t, cancelDaemon{&fakeDaemon{progress: []map[string]int{c.counts}}, c.n})
		out, errOut, code := opsRun{}.run(t, socket, "alert", "cancel", "7", "--yes")
		if code != exitOK || out != c.want {
			t.Errorf("%s: exit %d, stderr %q, stdout\n%q\nwant\n%q", c.name, code, errOut, out, c.want)
		}
	}
}

func TestAlertListEmpty(t *testing.T) {
	var b bytes.Buffer
	printAlertList(&b, nil)
	if want := "Aucune alerte pour l'instant. Pour en envoyer une : vigie alert send --zone ZONE\n"; b.String() != want {
		t.Errorf("empty list = %q, want %q", b.String(), want)
	}
}
