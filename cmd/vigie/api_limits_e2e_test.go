//go:build e2e

package main

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func openFiles(t *testing.T, pid int) int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// A client of the socket that opens connection after connection and sends
// nothing takes a bounded number of the daemon's file descriptors, is cut
// off after the header timeout, and the CLI works again after it.
func TestAPIConnectionFloodIsBounded(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	before := openFiles(t, e.pid)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 500 {
		c, err := net.Dial("unix", e.socket)
		if err != nil {
			continue // the listen backlog is full: the kernel's bound, not ours
		}
		conns = append(conns, c)
	}
	time.Sleep(300 * time.Millisecond)
	// 16 held for one user (the API's per-user cap), a few in passing.
	if during := openFiles(t, e.pid); during > before+20 {
		t.Errorf("daemon holds %d files during a flood of %d connections, %d before", during, len(conns), before)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, _, code := e.vigie("status"); code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the CLI never got an answer after the idle connections were cut\n%s", e.logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The flood was said once in the journal, not once per connection.
	if n := strings.Count(e.logs.String(), "API connections refused"); n == 0 || n > 3 {
		t.Errorf("%d journal lines about refused connections, want 1 to 3", n)
	}
}
