//go:build e2e

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"vigie/gateway/apitype"
)

// Every operator change made with the CLI writes its audit record in the
// change's own transaction (the daemon says so), once, chained; the journal
// anchors each record.
func TestAuditOperatorChangesWrittenWithThem(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{config: func(s string) string {
		return strings.Replace(s, `subscription = "open"`, `subscription = "approval"`, 1)
	}})
	const shop = "+33611111111"
	e.exchange(shop, "INSCRIPTION macon", 1) // pending, in the inbox
	inbox := decodeJSON[[]apitype.InboxMessage](t, e.mustVigie("inbox", "list", "--json"))
	if len(inbox) != 1 {
		t.Fatalf("inbox = %+v; want the request", inbox)
	}
	e.mustVigie("subscribers", "approve", shop)
	e.mustVigie("subscribers", "add", "06 22 22 22 22", "--zone", "macon")
	csv := filepath.Join(e.dir, "adherents.csv")
	if err := os.WriteFile(csv, []byte("tel;zone\n0633333333;macon\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.mustVigie("subscribers", "import", csv, "--dry-run")
	e.mustVigie("subscribers", "import", csv)
	a := e.sendAlert("--zone", "macon", "vol à l'étalage rue Carnot")
	e.mustVigie("alert", "followup", fmt.Sprint(a.ID), "--yes", "fin d'alerte")
	e.mustVigie("alert", "cancel", fmt.Sprint(a.ID), "--yes")
	e.mustVigie("inbox", "read", fmt.Sprint(inbox[0].ID))
	e.mustVigie("alert", "test", "--to", "06 44 44 44 44")
	e.mustVigie("subscribers", "remove", "06 22 22 22 22")
	e.mustVigie("subscribers", "remove", "06 33 33 33 33", "--erase", "--yes")

	var recs []apitype.AuditRecord
	if err := json.Unmarshal(e.mustVigie("audit", "--json"), &recs); err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	ops := 0
	for _, r := range recs {
		if r.User != "sms" {
			actions[r.Action]++
			ops++
		}
	}
	want := map[string]int{
		"POST /v1/subscribers/{phone}/approve": 1, "POST /v1/subscribers": 1, "POST /v1/subscribers/import": 2,
		"POST /v1/alerts": 1, "POST /v1/alerts/{id}/followup": 1, "POST /v1/alerts/{id}/cancel": 1,
		"POST /v1/inbox/{id}/read": 1, "POST /v1/alerts/test": 1, "POST /v1/subscribers/{phone}/remove": 2,
	}
	if ops != 11 || len(actions) != len(want) {
		t.Errorf("operator records by route = %v; want one per change: %v", actions, want)
	}
	for k, n := range want {
		if actions[k] != n {
			t.Errorf("%s: %d records, want %d", k, actions[k], n)
		}
	}
	// The daemon wrote all of them with their change but the dry run's,
	// which changed nothing and is recorded after it.
	logs := e.logs.String()
	if n := strings.Count(logs, "with_change=true"); n != 10 {
		t.Errorf("%d records written with their change, want 10\n%s", n, logs)
	}
	for _, r := range recs {
		anchor := regexp.MustCompile(fmt.Sprintf(`msg="audit record" [^\n]*seq=%d hash=%s `, r.Seq, r.Hash))
		if !anchor.MatchString(logs) {
			t.Errorf("record #%d (%s) not anchored in the journal", r.Seq, r.Action)
		}
		if strings.Contains(r.Request+r.Result+r.Target, "33 33") || strings.Contains(r.Result, "3363333") {
			t.Errorf("record #%d keeps the erased number: %+v", r.Seq, r)
		}
	}
	if out := string(e.mustVigie("audit", "verify")); out != fmt.Sprintf("journal intègre : %d enregistrements\n", len(recs)) {
		t.Errorf("audit verify = %q", out)
	}
	// One sentence per record, and where the details are.
	if text, id := string(e.mustVigie("audit")), fmt.Sprint(a.ID); strings.Count(text, "\n") != len(recs)+1 ||
		!strings.Contains(text, " a annulé l'alerte "+id) && !strings.Contains(text, " a voulu annuler l'alerte "+id+" : rien à annuler") ||
		!strings.Contains(text, " a désinscrit le ") || !strings.HasSuffix(text, "Détails (requête, réponse, empreintes) : vigie audit --json\n") {
		t.Errorf("vigie audit:\n%s", text)
	}
}
