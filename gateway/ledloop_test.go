package gateway

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/modem/sim"
)

// ledDir makes dir/led stand for /sys/class/leds/X: plain files, with the
// timer's delay files already there (the kernel's on-demand creation is
// tested in package led).
func ledDir(t *testing.T, dir string) string {
	t.Helper()
	d := filepath.Join(dir, "led")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"trigger": "mmc0", "brightness": "0", "delay_on": "0", "delay_off": "0"} {
		if err := os.WriteFile(filepath.Join(d, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// readLED is what the LED shows: trigger and brightness, or trigger and
// delays when blinking.
func readLED(t *testing.T, d string) string {
	t.Helper()
	var parts []string
	for _, name := range []string{"trigger", "brightness", "delay_on", "delay_off"} {
		b, err := os.ReadFile(filepath.Join(d, name))
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, string(b))
	}
	if parts[0] != "timer" {
		return parts[0] + " " + parts[1]
	}
	parts = append(parts[:1], parts[2:]...) // the timer blinks at any brightness
	return strings.Join(parts, " ")
}

func waitLED(t *testing.T, d, what, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := readLED(t, d)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("LED never %s: shows %q, want %q", what, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const (
	ledReady    = "none 1"
	ledSending  = "timer 500 500"
	ledDegraded = "timer 100 1900"
	ledFault    = "timer 50 150"
	ledStopped  = "none 0"
)

// The LED follows the simulated modem through its states, and goes off
// when the daemon stops.
func TestLEDFollowsTheModem(t *testing.T) {
	t.Parallel()
	var led string
	phones := sim.New(sim.Options{})
	t.Cleanup(func() { phones.Close() })
	r := newRigConfig(t, func(text, dir string) string {
		led = ledDir(t, dir)
		return strings.Replace(text, "burst = 1", "burst = 1\n"+`send_timeout = "5s"`, 1) + "\n[led]\npath = \"" + led + "\"\n"
	}, Options{}, phones)

	waitLED(t, led, "ready", ledReady)
	r.phones.SetNetwork(false)
	a, _ := r.alert(3, "vol à l'étalage")
	waitLED(t, led, "degraded without network", ledDegraded)
	r.phones.SetSendDelay(time.Second)
	r.phones.SetNetwork(true)
	waitLED(t, led, "sending with the network back", ledSending)
	r.finished(a.ID, 30*time.Second)
	waitLED(t, led, "ready once sent", ledReady)

	r.cancel()
	if err := <-r.done; err != nil {
		t.Fatal(err)
	}
	r.done <- nil // for the rig's cleanup
	if got := readLED(t, led); got != ledStopped {
		t.Errorf("LED after stop shows %q, want %q", got, ledStopped)
	}
}

// No modem, or a SIM asking for a PIN none is configured for: fault.
func TestLEDFault(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		opts   sim.Options
		device string
	}{
		{"no modem", sim.Options{}, "nothing-here"},
		{"SIM PIN", sim.Options{PIN: "1234"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var led string
			phones := sim.New(tt.opts)
			t.Cleanup(func() { phones.Close() })
			newRigConfig(t, func(text, dir string) string {
				led = ledDir(t, dir)
				if tt.device != "" {
					text = strings.Replace(text, dir+"/modem", dir+"/"+tt.device, 1)
				}
				return text + "\n[led]\npath = \"" + led + "\"\n"
			}, Options{}, phones)
			waitLED(t, led, "fault", ledFault)
		})
	}
}

// Without [led] path the loop returns at once and writes nothing.
func TestLEDNotConfigured(t *testing.T) {
	g, _, dir := newGateway(t, "open")
	d := ledDir(t, dir)
	done := make(chan struct{})
	go func() {
		g.runLED(t.Context())
		close(done)
	}()
	<-done
	if got := readLED(t, d); got != "mmc0 0" {
		t.Errorf("LED shows %q; nothing should have been written", got)
	}
}
