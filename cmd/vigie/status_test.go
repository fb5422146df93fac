package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/client"
	"vigie/gateway/pace"
)

// lostModemDaemon answers the status of a daemon whose one modem was
// unplugged: the worker cleared what only an open modem can say.
type lostModemDaemon struct{ *fakeDaemon }

func (d lostModemDaemon) Status() (apitype.Status, error) {
	st, _ := d.fakeDaemon.Status()
	st.State = "fault"
	m := &st.Modems[0]
	m.State, m.Since = apitype.ModemFault, fakeAt.Add(time.Minute)
	m.SIM, m.SignalDBm, m.SignalBars, m.Registration, m.Operator, m.StorageUsed, m.StorageTotal = "", 0, 0, "", "", 0, 0
	m.LastError = "open /dev/vigie-modem0: no such file or directory"
	m.LastErrorAt, m.LastErrorKind, m.Reopens = fakeAt.Add(time.Minute), apitype.ErrKindNoDevice, 1
	st.SentToday, st.SentTodayMessages, st.InboxUnread = 15, 12, 1
	st.QueueETASeconds = 0 // no modem can send: the daemon gives no end
	// The network's time as the modem last told it: still the best there
	// is, said with its age.
	off := 0.0
	m.ClockOffsetSeconds, m.ClockReadAt = &off, fakeAt
	st.Clock = &apitype.Clock{Source: "m1", MaxSkewSeconds: 300}
	return st, nil
}

// A modem gone shows no SIM or signal from before, says when it was last
// seen, what is wrong in French and what to do; --check says it in one
// line with exit 2.
func TestStatusModemLost(t *testing.T) {
	socket := serveFakeBackend(t, lostModemDaemon{&fakeDaemon{}})
	out, errOut, code := opsRun{}.run(t, socket, "status")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	checkGolden(t, "status_modem_lost", out)

	out, errOut, code = opsRun{}.run(t, socket, "status", "--check")
	want := "EN PANNE : modem m1 : modem absent : vérifiez le câble USB et l'alimentation du modem ; journalctl -u vigie\n"
	if code != 2 || out != want || errOut != "" {
		t.Errorf("status --check: exit %d, stdout %q, stderr %q; want exit 2, %q", code, out, errOut, want)
	}
}

// Each state gives its line and the exit code monitoring reads.
func TestCheckStatus(t *testing.T) {
	modem := func(state, kind string) apitype.ModemStatus {
		return apitype.ModemStatus{Name: "m1", State: state, Since: fakeAt, LastErrorKind: kind, LastErrorAt: fakeAt}
	}
	for _, c := range []struct {
		name string
		st   apitype.Status
		err  error
		want string
		code checkCode
	}{
		{"ready", apitype.Status{State: "ready", Modems: []apitype.ModemStatus{modem(apitype.ModemReady, "")}},
			nil, "OK : Vigie prêt, modem prêt", checkOK},
		{"sending with two modems", apitype.Status{State: "sending", Modems: []apitype.ModemStatus{modem(apitype.ModemReady, ""), modem(apitype.ModemReady, "")}},
			nil, "OK : Vigie envoi en cours, 2 prêt sur 2", checkOK},
		{"no network", apitype.Status{State: "degraded", Modems: []apitype.ModemStatus{modem(apitype.ModemNoNetwork, "")}},
			nil, "DÉGRADÉ : modem m1 : pas de réseau : vérifiez l'antenne et la couverture ; les envois reprendront seuls", checkDegraded},
		{"port busy", apitype.Status{State: "fault", Modems: []apitype.ModemStatus{modem(apitype.ModemFault, apitype.ErrKindPortBusy)}},
			nil, "EN PANNE : modem m1 : port du modem occupé par un autre programme : arrêtez ModemManager : sudo systemctl disable --now ModemManager", checkDown},
		{"PIN", apitype.Status{State: "fault", Modems: []apitype.ModemStatus{modem(apitype.ModemSIMLocked, apitype.ErrKindSIMLocked)}},
			nil, "EN PANNE : modem m1 : SIM verrouillée (code PIN ou PUK) : vérifiez le PIN dans /etc/vigie/vigie.toml, puis sudo systemctl restart vigie", checkDown},
		{"silent", apitype.Status{State: "fault", Modems: []apitype.ModemStatus{modem(apitype.ModemNoAnswer, apitype.ErrKindTimeout)}},
			nil, "EN PANNE : modem m1 : le modem ne répond pas : débranchez puis rebranchez le modem ; journalctl -u vigie", checkDown},
		{"database", apitype.Status{State: "fault", DatabaseError: "fichier endommagé", Modems: []apitype.ModemStatus{modem(apitype.ModemReady, "")}},
			nil, "EN PANNE : base de données : fichier endommagé", checkDown},
		{"daemon down", apitype.Status{}, fmt.Errorf("dial: %w", client.ErrUnreachable),
			"EN PANNE : le démon vigie ne répond pas : systemctl status vigie ; journalctl -u vigie", checkDown},
		{"other error", apitype.Status{}, errors.New("boom"), "EN PANNE : état illisible (boom) : journalctl -u vigie", checkDown},
	} {
		line, code := checkStatus(c.st, c.err)
		if line != c.want || code != c.code {
			t.Errorf("%s: %q, %d; want %q, %d", c.name, line, code, c.want, c.code)
		}
	}
}

func TestMessagesAndParts(t *testing.T) {
	for _, c := range []struct {
		messages, parts int
		want            string
	}{
		{0, 0, "0 message"},
		{1, 1, "1 message"},
		{1, 2, "1 message (2 SMS)"},
		{12, 15, "12 messages (15 SMS)"},
		{12, 12, "12 messages"},
	} {
		if got := messagesAndParts(c.messages, c.parts); got != c.want {
			t.Errorf("messagesAndParts(%d, %d) = %q, want %q", c.messages, c.parts, got, c.want)
		}
	}
}

func TestPerMinuteFrench(t *testing.T) {
	for _, c := range []struct {
		r    float64
		want string
	}{
		{0.5, "0,5 message"},
		{1, "1 message"},
		{1.49, "1,5 message"},
		{2.5, "2,5 messages"},
		{9.96, "10 messages"},
		{10, "10 messages"},
		{29.7, "30 messages"},
	} {
		if got := perMinuteFrench(c.r); got != c.want {
			t.Errorf("perMinuteFrench(%v) = %q, want %q", c.r, got, c.want)
		}
	}
}

// The ETA of an alert being watched comes from the pace its messages
// left at, rebuilt from the counts polled each second: ten 6 s apart, the
// modem unplugged five minutes, ten more 6 s apart, 30 left: 3 min, not
// the 8 min 51 s that sends over the time watched gave.
func TestAlertETAAfterRecovery(t *testing.T) {
	var seen sentSeen
	at, sent := fakeAt, 0
	poll := func(d time.Duration) {
		for range int(d / time.Second) {
			at = at.Add(time.Second)
			seen.observe(at, sent)
		}
	}
	seen.observe(at, 0)
	if _, ok := pace.ETA(seen.times, 30); ok {
		t.Error("nothing sent yet: the measured ETA must be unknown")
	}
	for i := range 20 {
		if i == 10 {
			poll(5 * time.Minute)
		}
		sent++
		poll(6 * time.Second)
	}
	if eta, ok := pace.ETA(seen.times, 30); !ok || eta != 3*time.Minute {
		t.Errorf("ETA = %v, %v; want 3 min", eta, ok)
	}
}

// No daemon: monitoring reads « down », exit 2, one line on stdout.
func TestStatusCheckNoDaemon(t *testing.T) {
	out, errOut, code := runCLI(t, "--socket="+filepath.Join(t.TempDir(), "none.sock"), "status", "--check")
	if want := "EN PANNE : le démon vigie ne répond pas : systemctl status vigie ; journalctl -u vigie\n"; code != 2 || out != want || errOut != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 2, %q", code, out, errOut, want)
	}
	if _, errOut, code := runCLI(t, "--socket="+filepath.Join(t.TempDir(), "none.sock"), "status", "--check", "--json"); code != exitUsage || !strings.Contains(errOut, "--check donne une seule ligne") {
		t.Errorf("--check --json: exit %d, stderr %q", code, errOut)
	}
}

// Every kind of modem error and every state that needs a person has its
// French and its next step; a modem starting again after a short loss
// needs nobody yet.
func TestModemAdvice(t *testing.T) {
	failed := func(state, kind string) apitype.ModemStatus {
		return apitype.ModemStatus{State: state, Since: fakeAt, LastErrorKind: kind, LastErrorAt: fakeAt}
	}
	for _, c := range []struct {
		m    apitype.ModemStatus
		want string
	}{
		{failed(apitype.ModemFault, apitype.ErrKindNoDevice), "modem absent : vérifiez le câble USB et l'alimentation du modem ; journalctl -u vigie"},
		{failed(apitype.ModemFault, apitype.ErrKindPermission), "accès au port du modem refusé : l'utilisateur vigie doit être du groupe dialout ; journalctl -u vigie"},
		{failed(apitype.ModemFault, apitype.ErrKindClosed), "liaison avec le modem coupée : vérifiez le câble USB ; journalctl -u vigie"},
		{failed(apitype.ModemFault, apitype.ErrKindBadResponse), "réponse du modem illisible : journalctl -u vigie ; signalez-le avec vigie modem probe"},
		{failed(apitype.ModemFault, apitype.ErrKindNetwork), "refus du modem ou du réseau : journalctl -u vigie"},
		{failed(apitype.ModemFault, apitype.ErrKindOther), "erreur du modem : journalctl -u vigie"},
		{failed(apitype.ModemSIMLocked, apitype.ErrKindOther), "SIM verrouillée (code PIN ou PUK) : vérifiez le PIN dans /etc/vigie/vigie.toml, puis sudo systemctl restart vigie"},
		{failed(apitype.ModemSIMLocked, ""), "SIM verrouillée (code PIN ou PUK) : vérifiez le PIN dans /etc/vigie/vigie.toml, puis sudo systemctl restart vigie"},
		{failed(apitype.ModemSendBlocked, apitype.ErrKindNetwork), "l'opérateur refuse les SMS : vérifiez la ligne (forfait, SMS autorisés) auprès de l'opérateur"},
		{failed(apitype.ModemStarting, apitype.ErrKindNoDevice), "modem absent : vérifiez le câble USB et l'alimentation du modem ; journalctl -u vigie"},
		{apitype.ModemStatus{State: apitype.ModemStarting, Since: fakeAt, LastErrorKind: apitype.ErrKindClosed, LastErrorAt: fakeAt.Add(-time.Second)}, ""},
		{failed(apitype.ModemReady, apitype.ErrKindNetwork), ""},
		{failed(apitype.ModemStopped, apitype.ErrKindClosed), ""},
	} {
		if got := modemAdvice(c.m); got != c.want {
			t.Errorf("%s/%s: %q, want %q", c.m.State, c.m.LastErrorKind, got, c.want)
		}
	}
	var b strings.Builder
	printModem(&b, apitype.ModemStatus{Name: "m2", Device: "/dev/vigie-modem1", State: apitype.ModemStarting})
	if want := "Modem m2 (/dev/vigie-modem1) : démarrage\n  aucun contact avec le modem depuis le démarrage\n"; !strings.HasPrefix(b.String(), want) {
		t.Errorf("a modem never seen:\n%s\nwant it to start with\n%s", b.String(), want)
	}
}
