package gateway

// One test per modem fault of issue #3, each through the real daemon code
// (Gateway.Run, its workers, a bbolt store in a temp dir) and the real serial
// stack on a pseudo-terminal served by the simulated modem. Each checks that
// every message is eventually sent or correctly failed, that nothing received
// is lost, and that the health snapshot says what happened.

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
	"vigie/gateway/config"
	"vigie/modem/sim"
	"vigie/store"
)

// rig is a daemon on a simulated modem.
type rig struct {
	t      *testing.T
	g      *Gateway
	st     *store.Store
	phones *sim.Modem
	link   string
	cancel context.CancelFunc
	done   chan error
}

// newRig configures one modem (extra: more keys of its [[modem]] table),
// plugs a simulated modem made with opts in and starts the daemon.
func newRig(t *testing.T, extra string, opts sim.Options) *rig {
	t.Helper()
	phones := sim.New(opts)
	t.Cleanup(func() { phones.Close() })
	return newRigWith(t, extra, phones)
}

func (r *rig) plug() {
	r.t.Helper()
	if _, err := r.phones.OpenPTY(r.link); err != nil {
		r.t.Fatal(err)
	}
}

// alert subscribes n shops under macon and sends them an alert.
func (r *rig) alert(n int, text string) (apitype.Alert, []string) {
	r.t.Helper()
	var shops []string
	for i := range n {
		p := fmt.Sprintf("+3361100%04d", i)
		if _, err := r.st.AddSubscriber(store.Subscription{Phone: p, Zone: "macon", Source: "operator"}, time.Now()); err != nil {
			r.t.Fatal(err)
		}
		shops = append(shops, p)
	}
	a, err := r.g.SendAlert(context.Background(), apitype.AlertRequest{Zones: []string{"macon"}, Text: text}, "test")
	if err != nil || a.Recipients != n {
		r.t.Fatalf("alert %+v, %v", a, err)
	}
	return a, shops
}

// finished waits until every message of the alert is final and returns its counts.
func (r *rig) finished(id uint64, within time.Duration) map[string]int {
	r.t.Helper()
	deadline := time.Now().Add(within)
	for {
		a, err := r.g.Alert(id)
		if err != nil {
			r.t.Fatal(err)
		}
		if a.Done {
			return a.Counts
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("alert %d not finished after %v: %v; modem %+v", id, within, a.Counts, r.modem())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rig) modem() apitype.ModemStatus {
	st, err := r.g.Status()
	if err != nil {
		r.t.Fatal(err)
	}
	return st.Modems[0]
}

// waitModem waits until the health snapshot satisfies ok.
func (r *rig) waitModem(what string, within time.Duration, ok func(apitype.ModemStatus) bool) apitype.ModemStatus {
	r.t.Helper()
	deadline := time.Now().Add(within)
	for {
		m := r.modem()
		if ok(m) {
			return m
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("modem never %s: %+v", what, m)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rig) waitPhones(number string, n int) []sim.SMS {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := r.phones.WaitReceived(ctx, number, n)
	if err != nil {
		r.t.Fatalf("%s: %v; modem %+v", number, err, r.modem())
	}
	return got
}

func ready(m apitype.ModemStatus) bool { return m.State == apitype.ModemReady }

// readyAndListed waits for the modem to be ready and its storage listed
// once. A hang injected before that first listing would hang the listing
// (its timeout is 20 s, for a full SIM), not the send a test is about.
func (r *rig) readyAndListed() {
	r.t.Helper()
	r.waitModem("ready", 10*time.Second, ready)
	for deadline := time.Now().Add(10 * time.Second); r.phones.CommandCount("+CMGL=4") == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			r.t.Fatal("the modem's storage was never listed")
		}
	}
}

// gone counts the messages that left the modem: sent, and delivered once
// their status report came back.
func gone(counts map[string]int) int { return counts["sent"] + counts["delivered"] }

// A number the network refuses fails at once; the others are not delayed.
func TestFaultBadRecipientFailsAlone(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{})
	r.phones.FailNumber("+33611000001", 1) // unassigned number
	a, shops := r.alert(4, "vol à l'étalage")
	counts := r.finished(a.ID, 20*time.Second)
	if gone(counts) != 3 || counts["failed"] != 1 {
		t.Errorf("counts %v, want 3 sent and 1 failed", counts)
	}
	if got := r.phones.Received(shops[1]); len(got) != 0 {
		t.Errorf("the refused number got %v", got)
	}
	msgs, err := r.g.store.AlertMessages(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.To == shops[1] && (m.Attempts != 1 || !strings.Contains(m.LastError, "CMS Error: 1")) {
			t.Errorf("refused message %+v: want failed after one attempt, with the modem's error", m)
		}
	}
	// The counters follow the store's commit by a moment.
	m := r.waitModem("counting 3 sent", 5*time.Second, func(m apitype.ModemStatus) bool { return m.Sent == 3 })
	if m.Failed != 1 || !strings.Contains(m.LastError, "CMS Error: 1") {
		t.Errorf("health %+v: want 1 failure, the CMS error kept", m)
	}
}

// Temporary network errors (congestion) at random: retried with backoff
// until everything is sent.
func TestFaultTemporaryErrorsAreRetried(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{Seed: 7})
	r.phones.FailRate(42, 0.4) // congestion
	a, shops := r.alert(8, "faux billets")
	counts := r.finished(a.ID, 30*time.Second)
	if gone(counts) != 8 {
		t.Errorf("counts %v, want all 8 sent", counts)
	}
	for _, p := range shops {
		if got := r.phones.Received(p); len(got) != 1 {
			t.Errorf("%s got %d SMS, want 1", p, len(got))
		}
	}
	if m := r.waitModem("counting 8 sent", 5*time.Second, func(m apitype.ModemStatus) bool { return m.Sent == 8 }); m.Failed == 0 {
		t.Errorf("health %+v: want the failures counted and 8 sent", m)
	}
}

// No network: the sender waits for registration without burning attempts,
// then sends everything.
func TestFaultNoNetworkWaitsForRegistration(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{})
	r.waitModem("ready", 10*time.Second, ready)
	r.phones.SetNetwork(false)
	a, _ := r.alert(3, "escroquerie au faux policier")
	r.waitModem("without network", 15*time.Second, func(m apitype.ModemStatus) bool {
		return m.State == apitype.ModemNoNetwork
	})
	time.Sleep(time.Second)
	msgs, err := r.g.store.AlertMessages(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.State != store.StateQueued || m.Attempts > 0 {
			t.Errorf("during the outage %+v: want queued, no attempt spent", m)
		}
	}
	r.phones.SetNetwork(true)
	counts := r.finished(a.ID, 20*time.Second)
	if gone(counts) != 3 {
		t.Errorf("counts %v, want 3 sent", counts)
	}
	r.waitModem("ready again", 5*time.Second, ready)
}

// A modem that stops answering is detected by the command timeout, reported,
// and reopened; once a technician replugs it, the queue drains. The modem
// hung before its "> " prompt: no PDU went out, so nothing is uncertain.
func TestFaultHungModemIsReopened(t *testing.T) {
	t.Parallel()
	r := newRig(t, `command_timeout = "1s"`+"\n"+`send_timeout = "2s"`, sim.Options{})
	r.readyAndListed()
	r.phones.HangAfter(0)
	a, shops := r.alert(2, "vol de carte bancaire")
	m := r.waitModem("reported silent", 20*time.Second, func(m apitype.ModemStatus) bool {
		return m.State == apitype.ModemNoAnswer && m.Timeouts > 0 && m.Reopens > 0
	})
	if !strings.Contains(m.LastError, "did not answer") {
		t.Errorf("last error %q, want the timeout", m.LastError)
	}
	// The USB replug a technician would do (or a hub power cycle).
	if err := r.phones.Unplug(); err != nil {
		t.Fatal(err)
	}
	r.phones.SetHang(false)
	r.plug()
	counts := r.finished(a.ID, 40*time.Second)
	if gone(counts) != 2 {
		t.Errorf("counts %v, want both sent", counts)
	}
	for _, p := range shops {
		r.waitPhones(p, 1)
	}
	msgs, _ := r.g.store.AlertMessages(a.ID)
	uncertain := 0
	for _, m := range msgs {
		if m.Uncertain {
			uncertain++
		}
	}
	if uncertain != 0 {
		t.Errorf("%d messages marked uncertain, want none: the PDU never went out", uncertain)
	}
}

// A modem that keeps saying it is confused (ME failure) is reset with
// AT+CFUN=1,1 after a few reopens; its device node vanishes during the
// reboot and comes back; then the queue drains.
func TestFaultConfusedModemIsReset(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{RebootDelay: 500 * time.Millisecond, SIMBusy: 500 * time.Millisecond})
	r.waitModem("ready", 10*time.Second, ready)
	r.phones.SetBroken(true)
	a, _ := r.alert(3, "vol à main armée")
	counts := r.finished(a.ID, 40*time.Second)
	if gone(counts) != 3 {
		t.Errorf("counts %v, want all sent after the reset", counts)
	}
	if n := r.phones.Resets(); n != 1 {
		t.Errorf("the modem was reset %d times, want 1", n)
	}
	if m := r.modem(); m.Resets != 1 || m.Reopens < resetAfter {
		t.Errorf("health %+v: want 1 reset after %d reopens", m, resetAfter)
	}
}

// Unplugged in the middle of an alert, plugged back: every message is sent,
// none lost, at most one resent (uncertain).
func TestFaultUnplugMidAlert(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{SendDelay: 100 * time.Millisecond})
	r.waitModem("ready", 10*time.Second, ready)
	a, shops := r.alert(6, "cambriolage en cours")
	r.waitPhones(shops[0], 1)
	if err := r.phones.Unplug(); err != nil {
		t.Fatal(err)
	}
	r.waitModem("lost", 10*time.Second, func(m apitype.ModemStatus) bool { return m.State != apitype.ModemReady })
	time.Sleep(500 * time.Millisecond)
	r.plug()
	counts := r.finished(a.ID, 40*time.Second)
	if gone(counts) != 6 {
		t.Errorf("counts %v, want all 6 sent", counts)
	}
	for _, p := range shops {
		if got := r.phones.Received(p); len(got) < 1 || len(got) > 2 {
			t.Errorf("%s got %d SMS, want 1 (2 at most if its send was cut)", p, len(got))
		}
	}
	if m := r.modem(); m.Reopens < 1 {
		t.Errorf("health %+v: want the reopen counted", m)
	}
}

// The SIM is busy for a while after power-on: the daemon waits, then works.
func TestFaultSIMBusyAtBoot(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{SIMBusy: 2 * time.Second})
	a, _ := r.alert(1, "vol")
	if counts := r.finished(a.ID, 20*time.Second); gone(counts) != 1 {
		t.Errorf("counts %v, want 1 sent", counts)
	}
	if m := r.modem(); m.SIM != "READY" {
		t.Errorf("health %+v: want SIM READY", m)
	}
}

// SIM storage full while the daemon was down: what is stored is read and
// deleted, then what the network holds back arrives; nothing is lost.
func TestFaultStorageFullNothingLost(t *testing.T) {
	t.Parallel()
	phones := sim.New(sim.Options{Capacity: 3})
	defer phones.Close()
	var pending []string
	for i := range 5 {
		from := fmt.Sprintf("+3369900%04d", i)
		if err := phones.Inject(from, fmt.Sprintf("message %d de la boutique", i)); err != nil {
			pending = append(pending, from) // the network keeps it and retries
		}
	}
	if len(pending) != 2 || phones.Stored() != 3 {
		t.Fatalf("storage %d, held back %v: want 3 stored, 2 held back", phones.Stored(), pending)
	}
	r := newRigWith(t, "", phones)
	deadline := time.Now().Add(15 * time.Second)
	for phones.Stored() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("storage still holds %d", phones.Stored())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i, from := range pending {
		if err := phones.Inject(from, fmt.Sprintf("message %d de la boutique", 3+i)); err != nil {
			t.Fatal(err)
		}
	}
	deadline = time.Now().Add(15 * time.Second)
	for {
		inbox, err := r.st.Inbox()
		if err != nil {
			t.Fatal(err)
		}
		if len(inbox) == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("inbox holds %d of 5 messages", len(inbox))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The health counter follows the store's commit of each SMS: the fifth
	// may be in the inbox an instant before it is counted.
	for m := r.modem(); m.Received != 5; m = r.modem() {
		if time.Now().After(deadline) {
			t.Fatalf("health %+v: want 5 received", m)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Huawei-like modem flooding ^RSSI/^BOOT/^MODE lines, and any modem emitting
// RING, NO CARRIER, blank lines and garbage: commands still work, nothing
// received is lost, nothing sent twice.
func TestFaultUnsolicitedLines(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{Personality: sim.Huawei, URCEvery: 20 * time.Millisecond})
	r.waitModem("ready", 10*time.Second, ready)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		noise := [][]string{{"RING"}, {"NO CARRIER"}, {""}, {"\x00\xff#garbage@@"}, {"+CREG: 1"}, {"+CEREG: 5"}, {"^RSSI:17"}}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(15 * time.Millisecond):
			}
			r.phones.Emit(noise[i%len(noise)]...)
			if i%5 == 0 {
				r.phones.EmitDuringNextCommand("^BOOT:12345,0,0,0,72", "RING")
			}
		}
	}()
	a, shops := r.alert(5, "faux billets de 20 €")
	if err := r.phones.Inject("+33655555555", "J'ai vu le suspect rue Carnot"); err != nil {
		t.Fatal(err)
	}
	counts := r.finished(a.ID, 30*time.Second)
	if gone(counts) != 5 {
		t.Errorf("counts %v, want 5 sent", counts)
	}
	for _, p := range shops {
		if got := r.phones.Received(p); len(got) != 1 {
			t.Errorf("%s got %d SMS, want exactly 1", p, len(got))
		}
	}
	r.waitPhones("+33655555555", 1) // the inbox acknowledgement
	if m := r.modem(); m.Manufacturer == "" || !strings.Contains(strings.ToLower(m.Manufacturer), "huawei") || m.Received != 1 {
		t.Errorf("health %+v: want the Huawei identity and 1 received", m)
	}
}

// An LTE-only modem answers +CEREG and not +CREG: it is registered.
func TestFaultLTEOnlyModem(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{Personality: sim.Quectel})
	m := r.waitModem("ready", 10*time.Second, ready)
	if m.Registration != "home" || m.Model == "" {
		t.Errorf("health %+v: want home registration from +CEREG and the model", m)
	}
	a, _ := r.alert(2, "vol")
	if counts := r.finished(a.ID, 20*time.Second); gone(counts) != 2 {
		t.Errorf("counts %v", counts)
	}
}

// Status reports delivered later are read (and counted), and the storage
// does not fill up with them.
func TestFaultDelayedStatusReports(t *testing.T) {
	t.Parallel()
	r := newRig(t, "", sim.Options{ReportDelay: 300 * time.Millisecond})
	a, _ := r.alert(3, "vol")
	r.finished(a.ID, 20*time.Second)
	r.waitModem("reading 3 reports", 15*time.Second, func(m apitype.ModemStatus) bool { return m.Reports >= 3 })
	deadline := time.Now().Add(10 * time.Second)
	for r.phones.Stored() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("modem storage still holds %d", r.phones.Stored())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newRigWith is newRig with a simulated modem the test prepared.
func newRigWith(t *testing.T, extra string, phones *sim.Modem) *rig {
	t.Helper()
	return newRigConfig(t, func(text, _ string) string {
		return strings.Replace(text, "burst = 1", "burst = 1\n"+extra, 1)
	}, Options{}, phones)
}

// newRigConfig builds the daemon from the test config as edit changes it
// (policy "open" before the edit) with the simulated modems plugged at
// dir/modem, dir/modem2… in order.
func newRigConfig(t *testing.T, edit func(text, dir string) string, opts Options, phones ...*sim.Modem) *rig {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse(strings.NewReader(edit(fmt.Sprintf(testConfig, dir, "open"), dir)), "test.toml")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	st, err := store.Open(cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if opts.RetryBase == 0 {
		opts.RetryBase = 200 * time.Millisecond
	}
	g, err := New(cfg, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, g: g, st: st, phones: phones[0], link: filepath.Join(dir, "modem"), done: make(chan error, 1)}
	r.plug()
	for i, p := range phones[1:] {
		if _, err := p.OpenPTY(filepath.Join(dir, fmt.Sprintf("modem%d", i+2))); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-r.done; err != nil {
			t.Errorf("gateway run: %v", err)
		}
	})
	return r
}
