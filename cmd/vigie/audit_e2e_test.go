//go:build e2e

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"vigie/gateway/apitype"
)

func TestAuditNamesTheUserOfEachAlert(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{transliterate: true})
	me := "uid:" + strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil {
		me = u.Username
	}
	e.exchange("+33611111111", "INSCRIPTION macon", 1)
	e.exchange("+33622222222", "INSCRIPTION macon-nord", 1)

	a1 := e.sendAlert("--zone", "macon", "vol à l'étalage rue Carnot")
	e.waitAlert(a1.ID)
	a2 := e.sendAlert("--zone", "macon-nord", "faux billets de 50")
	e.waitAlert(a2.ID)
	e.mustVigie("alert", "cancel", fmt.Sprint(a2.ID), "--yes")
	e.mustVigie("alert", "preview", "--zone", "macon", "ceci n'est qu'un aperçu")

	var recs []apitype.AuditRecord
	if err := json.Unmarshal(e.mustVigie("audit", "--json"), &recs); err != nil {
		t.Fatal(err)
	}
	// The shops' own subscriptions by SMS come first (user "sms"), then two
	// alerts and a cancel; the preview and the reads changed nothing.
	prev := "0000000000000000000000000000000000000000000000000000000000000000"
	sms := 0
	for len(recs) > 0 && recs[0].User == "sms" {
		if recs[0].Prev != prev || !strings.Contains(recs[0].Label, "SMS") {
			t.Errorf("SMS record %+v", recs[0])
		}
		prev = recs[0].Hash
		recs = recs[1:]
		sms++
	}
	if sms != 2 {
		t.Errorf("%d records of subscriptions by SMS, want 2", sms)
	}
	want := []struct {
		action, target, result string
	}{
		{"POST /v1/alerts", "", fmt.Sprintf("id=%d ", a1.ID)},
		{"POST /v1/alerts", "", fmt.Sprintf("id=%d ", a2.ID)},
		{"POST /v1/alerts/{id}/cancel", fmt.Sprint(a2.ID), "cancelled="},
	}
	if len(recs) != len(want) {
		t.Fatalf("audit has %d records, want %d: %+v", len(recs), len(want), recs)
	}
	for i, w := range want {
		r := recs[i]
		if r.User != me || r.UID != os.Getuid() || r.Action != w.action || r.Target != w.target ||
			!strings.HasPrefix(r.Result, w.result) || r.Prev != prev || r.Time.IsZero() {
			t.Errorf("record %d = %+v; want %s by %s, target %q, result %q…, chained to %.8s", i+1, r, w.action, me, w.target, w.result, prev)
		}
		prev = r.Hash
	}
	if !strings.Contains(recs[0].Request, "Carnot") || !strings.Contains(recs[0].Result, "recipients=2") {
		t.Errorf("first alert's record: request %q, result %q; want its text and 2 recipients", recs[0].Request, recs[0].Result)
	}

	text := string(e.mustVigie("audit"))
	for _, s := range []string{
		" — le +33 6 ** ** ** 11 s'est inscrit par SMS\n",
		fmt.Sprintf(" — %s a envoyé l'alerte %d à Mâcon (2 commerçants)\n", me, a1.ID),
		fmt.Sprintf(" — %s a envoyé l'alerte %d à Mâcon nord (1 commerçant)\n", me, a2.ID),
		fmt.Sprintf(" — %s a voulu annuler l'alerte %d : rien à annuler\n", me, a2.ID),
	} {
		if !strings.Contains(text, s) {
			t.Errorf("vigie audit lacks %q:\n%s", s, text)
		}
	}
	if lines := strings.Count(text, "\n"); lines != 6 {
		t.Errorf("vigie audit: %d lines, want one per record:\n%s", lines, text)
	}
	if out := e.mustVigie("audit", "--since", "2999-01-01", "--json"); strings.TrimSpace(string(out)) != "[]" {
		t.Errorf("audit --since the future = %s, want []", out)
	}
	if _, _, code := e.vigie("audit", "--since", "hier"); code != 2 {
		t.Errorf("audit --since hier: exit %d, want 2 (usage)", code)
	}
	if out := string(e.mustVigie("audit", "verify")); out != "journal intègre : 5 enregistrements\n" {
		t.Errorf("audit verify = %q", out)
	}
}

// nobody is the unprivileged user the permission tests run the CLI as.
const nobody = 65534

// asNobody runs the CLI binary at bin as uid/gid 65534, without
// supplementary groups.
func (e *env) asNobody(bin string, args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/", apitype.SocketEnv + "=" + e.socket}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run vigie %v as nobody: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// publicCopy copies the CLI binary where any user can run it.
func publicCopy(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "vigie-e2e-public-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(vigieBin)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	bin := filepath.Join(dir, "vigie")
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestPermissionDeniedChangesNothing(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the CLI as another user")
	}
	if u, err := user.LookupId(strconv.Itoa(nobody)); err != nil || u.Username != "nobody" {
		t.Skipf("no user nobody with uid %d: %v", nobody, err)
	}
	if g, err := user.LookupGroup("vigie"); err == nil {
		t.Skipf("this machine has a vigie group (gid %s): the test assumes nobody is outside it", g.Gid)
	}
	e := start(t, envOptions{transliterate: true})
	e.exchange("+33611111111", "INSCRIPTION macon", 1)
	bin := publicCopy(t)
	// nobody may walk to the socket; the socket itself stays 0660 root:root.
	for _, d := range []string{e.dir, filepath.Dir(e.dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	changes := [][]string{
		{"alert", "send", "--yes", "--zone", "macon", "texte d'un intrus"},
		{"alert", "cancel", "1", "--yes"},
		{"subscribers", "list"},
		{"audit"},
	}

	// 1. The kernel refuses the connection: same exit code, a French
	// message, not "daemon unreachable".
	for _, args := range append(changes, []string{"status"}) {
		_, errb, code := e.asNobody(bin, args...)
		if code != exitPermission || !strings.Contains(errb, "vigie : accès refusé : le socket") || !strings.Contains(errb, "groupe vigie") {
			t.Errorf("socket 0660, nobody runs %v: exit %d, stderr %q; want 4 and the French refusal", args, code, errb)
		}
	}

	// 2. The socket lets nobody in (too open, or a stale group): the daemon
	// itself refuses, from the peer credentials.
	if err := os.Chmod(e.socket, 0o666); err != nil {
		t.Fatal(err)
	}
	for _, args := range changes {
		_, errb, code := e.asNobody(bin, args...)
		want := "vigie : accès refusé : l'utilisateur nobody (uid 65534) n'est pas membre du groupe vigie"
		if code != exitPermission || !strings.HasPrefix(errb, want) {
			t.Errorf("socket 0666, nobody runs %v: exit %d, stderr %q; want 4 and %q", args, code, errb, want)
		}
	}
	// A technician outside the group may still read the daemon's health.
	if out, errb, code := e.asNobody(bin, "status"); code != 0 || !strings.Contains(out, "Modem m1") {
		t.Errorf("nobody runs status: exit %d, stdout %q, stderr %q; want the status", code, out, errb)
	}

	// Nothing changed: no alert, no audit record.
	if out := strings.TrimSpace(string(e.mustVigie("alert", "list", "--json"))); out != "[]" && out != "null" {
		t.Errorf("alerts after the refusals: %s", out)
	}
	var recs []apitype.AuditRecord
	if err := json.Unmarshal(e.mustVigie("audit", "--json"), &recs); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.User != "sms" { // the shop's own subscription by SMS is the only change
			t.Errorf("audit after the refusals: %+v", r)
		}
	}
	if got := e.phones.Received("+33611111111"); len(got) != 1 {
		t.Errorf("the subscriber got %d SMS, want only the subscription confirmation", len(got))
	}
}
