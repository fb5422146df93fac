package main

import (
	"bytes"
	"strings"
	"testing"

	"vigie/gateway/apitype"
)

// A message the modem never confirmed (taken as sent after its one retry,
// without a reference) is shown as such: neither sent for sure nor among
// those who did not get the alert.
func TestAlertReportUnconfirmedIsNotMissed(t *testing.T) {
	rep := apitype.AlertReport{
		Alert: apitype.Alert{ID: 3, Category: "vol", Zones: []string{"macon"}, Rendered: "Vol.", Encoding: "GSM7", Parts: 1, Recipients: 2,
			Counts: map[string]int{"sent": 2}, Done: true},
		Messages: []apitype.Message{
			{ID: 1, To: "+33611111111", State: "sent", Attempts: 2, Modem: "m1", Uncertain: true, LastError: "SMS handed to the modem, outcome unknown: AT+CMGS=23: ERROR"},
			{ID: 2, To: "+33622222222", State: "sent", Attempts: 2, Modem: "m1", Uncertain: true, Refs: []int{7}},
		},
	}
	var b bytes.Buffer
	printAlertReport(&b, rep)
	out := b.String()
	for _, want := range []string{
		"06 11 11 11 11   envoi non confirmé (modem m1, 2 essais) — incertain : le modem n'a pas dit si le SMS est parti",
		"06 22 22 22 22   envoyé (modem m1, 2 essais) — incertain : peut-être reçu deux fois",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	for _, never := range []string{"pas reçu", "échec"} {
		if strings.Contains(out, never) {
			t.Errorf("report says %q of a message that may have gone out:\n%s", never, out)
		}
	}
}
