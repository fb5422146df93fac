package sim

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"vigie/modem"
)

// holdEnv names the port a child process of the test binary opens, as the
// daemon does, before it waits to be killed.
const holdEnv = "VIGIE_SIM_TEST_HOLD_PORT"

func TestMain(m *testing.M) {
	if path := os.Getenv(holdEnv); path != "" {
		os.Exit(holdPort(path))
	}
	os.Exit(m.Run())
}

// holdPort is the child: it opens the modem like the daemon, says so on
// stdout and waits for its kill -9 (or for its parent to go away).
func holdPort(path string) int {
	m, err := modem.Open(modem.Config{Name: "child", Device: path, CommandTimeout: 5 * time.Second})
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	defer m.Close()
	fmt.Println("open")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	return 0
}

// plugExclusive starts a simulated modem on a pseudo-terminal behind a link.
func plugExclusive(t *testing.T) (*Modem, string) {
	t.Helper()
	m := New(Options{})
	t.Cleanup(func() { m.Close() })
	link := filepath.Join(t.TempDir(), "vigie-modem0")
	if _, err := m.OpenPTY(link); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pty.watch == nil {
		t.Fatal("the modem does not follow its port's opens and closes (inotify instances exhausted?)")
	}
	return m, link
}

// exclusive reports whether the terminal behind link is in exclusive mode.
// The test may run as root, which the kernel lets through: ask TIOCGEXCL.
func exclusive(t *testing.T, link string) bool {
	t.Helper()
	fd, err := unix.Open(link, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.EBUSY) {
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	excl, err := unix.IoctlGetInt(fd, unix.TIOCGEXCL)
	if err != nil {
		t.Fatal(err)
	}
	return excl != 0
}

// reopen opens the modem like a restarted daemon, which tries again while
// the port is busy (the worker's backoff), and fails the test if the port
// stays busy.
func reopen(t *testing.T, link string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := modem.Open(modem.Config{Name: "again", Device: link, CommandTimeout: 5 * time.Second})
		if err == nil {
			m.Close()
			return
		}
		if !errors.Is(err, modem.ErrPortBusy) || time.Now().After(deadline) {
			t.Fatalf("reopen after the client went away: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A daemon killed with SIGKILL never releases TIOCEXCL; a real tty forgets
// it at its last close, and so must the simulated modem, or the restarted
// daemon finds its modem "busy" forever.
func TestKilledClientGivesThePortBack(t *testing.T) {
	_, link := plugExclusive(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holdEnv+"="+link)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "open\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child: %q, %v", line, err)
	}
	if !exclusive(t, link) {
		t.Error("the child's port is not exclusive: the test proves nothing")
	}
	if err := cmd.Process.Signal(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("the child exited cleanly instead of being killed")
	}
	reopen(t, link)
}

// A descriptor closed without TIOCNXCL (what the kernel does for a process
// that dies, or a watchdog abort) gives the port back too.
func TestDroppedDescriptorGivesThePortBack(t *testing.T) {
	_, link := plugExclusive(t)
	fd, err := unix.Open(link, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetInt(fd, unix.TIOCEXCL, 0); err != nil {
		t.Fatal(err)
	}
	if err := unix.Close(fd); err != nil {
		t.Fatal(err)
	}
	reopen(t, link)
	// And again: each pseudo-terminal session starts as the first did.
	fd, err = unix.Open(link, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetInt(fd, unix.TIOCEXCL, 0); err != nil {
		t.Fatal(err)
	}
	_ = unix.Close(fd)
	reopen(t, link)
}

// waitEvents waits until the modem has counted n opens and closes of its
// port since it was plugged in.
func waitEvents(t *testing.T, m *Modem, n int64) {
	t.Helper()
	m.mu.Lock()
	w := m.pty.watch
	m.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for w.events.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the modem saw %d opens and closes of its port, want %d", w.events.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// While its client lives, the port stays exclusive, however other programs
// open and close it meanwhile (back to back, so that inotify would merge
// identical events if it could).
func TestLiveClientKeepsThePort(t *testing.T) {
	m, link := plugExclusive(t)
	held, err := modem.Open(modem.Config{Name: "held", Device: link, CommandTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	// modem.Open: its probe descriptor, the serial port, the probe's close.
	waitEvents(t, m, 3)
	var fds []int
	for range 3 {
		fd, err := unix.Open(link, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.EBUSY) {
			continue // not root: the kernel itself keeps others out
		}
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, fd)
	}
	for _, fd := range fds {
		_ = unix.Close(fd)
	}
	waitEvents(t, m, int64(3+2*len(fds)))
	if !exclusive(t, link) {
		t.Fatal("exclusive mode cleared while its client still has the port open")
	}
	if _, err := modem.Open(modem.Config{Name: "second", Device: link, CommandTimeout: 5 * time.Second}); !errors.Is(err, modem.ErrPortBusy) {
		t.Fatalf("second open of a held port: %v, want busy", err)
	}
	if _, err := held.Signal(); err != nil {
		t.Errorf("the first client lost its modem: %v", err)
	}
}
