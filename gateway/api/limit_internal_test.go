package api

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/gateway/apitype"
)

type statusOnly struct{ Backend }

func (statusOnly) Status() (apitype.Status, error) { return apitype.Status{State: "ready"}, nil }

var testLimits = limits{conns: 8, connsPerUser: 4,
	readHeader: 300 * time.Millisecond, read: 600 * time.Millisecond, write: time.Second, idle: 300 * time.Millisecond}

func serveLimited(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vigie.sock")
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	s := New(statusOnly{}, nil)
	s.lim = testLimits
	s.srv.ReadHeaderTimeout, s.srv.ReadTimeout, s.srv.WriteTimeout, s.srv.IdleTimeout = s.lim.readHeader, s.lim.read, s.lim.write, s.lim.idle
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); <-done })
	return path
}

func dial(t *testing.T, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByServer waits up to limit for the server to close c.
func closedByServer(c net.Conn, limit time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(limit))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return err == nil || !(errors.As(err, &ne) && ne.Timeout())
}

func getStatus(path string) error {
	c, err := net.Dial("unix", path)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET /v1/status HTTP/1.1\r\nHost: vigie\r\nConnection: close\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

// A member of the group who opens connections and sends nothing holds at
// most connsPerUser of them, each for the header timeout only; the next
// ones are closed at once; and the API answers again when they are cut.
func TestIdleConnectionsAreBoundedAndCutOff(t *testing.T) {
	path := serveLimited(t)
	var held []net.Conn
	for range 20 {
		held = append(held, dial(t, path))
	}
	time.Sleep(100 * time.Millisecond) // let the server accept what it will
	refused := 0
	for _, c := range held[testLimits.connsPerUser:] {
		if closedByServer(c, 100*time.Millisecond) {
			refused++
		}
	}
	if want := 20 - testLimits.connsPerUser; refused != want {
		t.Errorf("%d connections beyond the per-user cap closed at once, want %d", refused, want)
	}
	for i, c := range held[:testLimits.connsPerUser] {
		if !closedByServer(c, 5*time.Second) {
			t.Errorf("idle connection %d never cut off", i)
		}
	}
	if err := getStatus(path); err != nil {
		t.Errorf("status after the idle flood: %v", err)
	}
}

// A body trickled byte by byte is cut off at the read timeout, however
// steadily it comes; so is a kept-alive connection left idle.
func TestSlowBodyAndIdleKeepAliveAreCutOff(t *testing.T) {
	path := serveLimited(t)
	c := dial(t, path)
	io.WriteString(c, "POST /v1/alerts/preview HTTP/1.1\r\nHost: vigie\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
	start := time.Now()
	cut := false
	for time.Since(start) < 5*time.Second {
		if _, err := c.Write([]byte(" ")); err != nil {
			cut = true
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !cut && !closedByServer(c, time.Second) {
		t.Error("a trickled body held its connection for 5 s")
	}

	k := dial(t, path)
	io.WriteString(k, "GET /v1/status HTTP/1.1\r\nHost: vigie\r\n\r\n")
	r := bufio.NewReader(k)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	k.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.ReadByte(); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Errorf("an idle kept-alive connection was not closed by the server: %v", err)
	}
}
