// Package printtest prints an HTML file to PDF with the real headless
// Chromium of Debian's package and reads the PDF back with poppler's tools,
// for the tests that check the report renders in a browser. Without
// Chromium the test fails when CI is set (.ci/run installs it) and is
// skipped otherwise, saying what to install.
package printtest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Chromium is where Debian's package puts the browser.
const Chromium = "/usr/bin/chromium"

// timeout bounds one print: a browser that hangs must not hang the tests.
const timeout = 60 * time.Second

// Need fails or skips t when a tool is missing.
func Need(t testing.TB) {
	t.Helper()
	for _, tool := range []string{Chromium, "pdftotext", "pdfinfo", "pdftoppm"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := "headless print test needs " + tool + " (apt-get install chromium poppler-utils)"
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// PDF prints htmlPath to a PDF in dir and returns the PDF's path.
func PDF(t testing.TB, htmlPath, dir string) string {
	t.Helper()
	Need(t)
	abs, err := filepath.Abs(htmlPath)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "rapport.pdf")
	profile := filepath.Join(dir, "chromium-profile")
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-extensions", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
		"--no-pdf-header-footer", "--print-to-pdf=" + out, "file://" + abs}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, Chromium, args...)
	// Chromium starts helpers (zygote, GPU, renderer): kill the whole
	// group on timeout, not only the first process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	err = cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // helpers left behind
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("chromium did not print within %v:\n%s", timeout, logs.String())
	}
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, logs.String())
	}
	if fi, err := os.Stat(out); err != nil || fi.Size() == 0 {
		t.Fatalf("chromium wrote no PDF (%v):\n%s", err, logs.String())
	}
	return out
}

// Text is the PDF's text laid out as on the page, with the no-break
// spaces French puts in numbers read as plain spaces.
func Text(t testing.TB, pdf string) string {
	t.Helper()
	b, err := exec.Command("pdftotext", "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.NewReplacer("\u202f", " ", "\u00a0", " ").Replace(string(b))
}

// Info is pdfinfo's report on the PDF.
func Info(t testing.TB, pdf string) string {
	t.Helper()
	b, err := exec.Command("pdfinfo", pdf).Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	return string(b)
}

// CheckA4 fails t unless every page of the PDF is A4 portrait.
func CheckA4(t testing.TB, pdf string) {
	t.Helper()
	info := Info(t, pdf)
	if !strings.Contains(info, "(A4)") || !strings.Contains(info, "595") && !strings.Contains(info, "594.96") {
		t.Errorf("the PDF is not A4 portrait:\n%s", info)
	}
}

// PNG writes page 1 of the PDF as a PNG at 60 dpi to dest.
func PNG(t testing.TB, pdf, dest string) {
	t.Helper()
	prefix := strings.TrimSuffix(dest, ".png")
	if out, err := exec.Command("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
}
