package usbreset

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// tree is a fake sysfs and /dev laid out as the kernel and udev do on a
// Raspberry Pi with a Quectel modem (option driver, ttyUSB0–3, AT port
// ttyUSB2 named vigie-modem0 by the udev rule), a CDC-ACM modem and the
// board's UART.
type tree struct {
	root  string
	sysfs Sysfs
	modem string // the usb_device directory of the Quectel modem
	acm   string // the CDC-ACM modem's
}

const hub = "devices/platform/soc/3f980000.usb/usb1"

func newTree(t *testing.T) tree {
	t.Helper()
	root := t.TempDir()
	tr := tree{root: root, sysfs: Sysfs{Sys: filepath.Join(root, "sys"), Dev: filepath.Join(root, "dev")}}
	file := func(path, content string) {
		t.Helper()
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(path, target string) {
		t.Helper()
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	usbDevice := func(dir string, dev int) {
		file("sys/"+dir+"/busnum", "1\n")
		file("sys/"+dir+"/devnum", strconv.Itoa(dev)+"\n")
		file("sys/"+dir+"/authorized", "1\n")
	}
	usbDevice(hub, 1)              // the root hub
	usbDevice(hub+"/1-1", 2)       // the board's hub
	usbDevice(hub+"/1-1/1-1.3", 5) // the modem
	for i := range 4 {
		tty := "ttyUSB" + strconv.Itoa(i)
		port := hub + "/1-1/1-1.3/1-1.3:1." + strconv.Itoa(i) + "/" + tty
		file("sys/"+port+"/port_number", "0\n")
		link("sys/"+port+"/tty/"+tty+"/device", "../../../"+tty)
		link("sys/class/tty/"+tty, "../../"+port+"/tty/"+tty)
		file("dev/"+tty, "")
	}
	link("dev/vigie-modem0", "ttyUSB2")
	usbDevice(hub+"/1-1/1-1.4", 6)
	acm := hub + "/1-1/1-1.4/1-1.4:1.0"
	file("sys/"+acm+"/bInterfaceClass", "02\n")
	link("sys/"+acm+"/tty/ttyACM0/device", "../../../1-1.4:1.0")
	link("sys/class/tty/ttyACM0", "../../"+acm+"/tty/ttyACM0")
	file("dev/ttyACM0", "")
	uart := "devices/platform/soc/3f201000.serial"
	file("sys/"+uart+"/driver_override", "\n")
	link("sys/"+uart+"/tty/ttyAMA0/device", "../../../3f201000.serial")
	link("sys/class/tty/ttyAMA0", "../../"+uart+"/tty/ttyAMA0")
	file("dev/ttyAMA0", "")
	file("dev/pts/3", "")
	var err error
	if tr.modem, err = filepath.EvalSymlinks(filepath.Join(root, "sys", hub, "1-1/1-1.3")); err != nil {
		t.Fatal(err)
	}
	if tr.acm, err = filepath.EvalSymlinks(filepath.Join(root, "sys", hub, "1-1/1-1.4")); err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestFind(t *testing.T) {
	tr := newTree(t)
	for _, tc := range []struct {
		port, want string
		err        error
	}{
		{port: "dev/vigie-modem0", want: tr.modem},
		{port: "dev/ttyUSB2", want: tr.modem},
		{port: "dev/ttyUSB0", want: tr.modem},
		{port: "dev/ttyACM0", want: tr.acm},
		{port: "dev/ttyAMA0", err: ErrNotUSB},
		{port: "dev/pts/3", err: ErrNotUSB},
		{port: "dev/vigie-modem1", err: fs.ErrNotExist},
	} {
		t.Run(tc.port, func(t *testing.T) {
			d, err := tr.sysfs.Find(filepath.Join(tr.root, tc.port))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Find = %+v, %v; want %v", d, err, tc.err)
				}
				return
			}
			if err != nil || d.Path != tc.want {
				t.Fatalf("Find = %+v, %v; want %s", d, err, tc.want)
			}
		})
	}
}

// After a reset the modem may come back as another ttyUSB, at another
// device number: the node follows the numbers sysfs shows now.
func TestNodeFollowsTheDeviceNumber(t *testing.T) {
	tr := newTree(t)
	d, err := tr.sysfs.Find(filepath.Join(tr.root, "dev/vigie-modem0"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Name() != "1-1.3" {
		t.Errorf("Name = %q", d.Name())
	}
	node, err := tr.sysfs.Node(d)
	if want := filepath.Join(tr.root, "dev/bus/usb/001/005"); err != nil || node != want {
		t.Errorf("Node = %q, %v; want %s", node, err, want)
	}
	if err := os.WriteFile(filepath.Join(d.Path, "devnum"), []byte("12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	node, err = tr.sysfs.Node(d)
	if want := filepath.Join(tr.root, "dev/bus/usb/001/012"); err != nil || node != want {
		t.Errorf("Node after re-enumeration = %q, %v; want %s", node, err, want)
	}
	if err := os.WriteFile(filepath.Join(d.Path, "devnum"), []byte("0x5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if node, err := tr.sysfs.Node(d); err == nil {
		t.Errorf("Node with a bad devnum = %q", node)
	}
}

// No usbfs node answers USBDEVFS_RESET here (the fake node is a plain
// file): Reset falls back to writing 0 then 1 to authorized, seen through
// a FIFO in its place.
func TestResetFallsBackToAuthorized(t *testing.T) {
	tr := newTree(t)
	d, err := tr.sysfs.Find(filepath.Join(tr.root, "dev/vigie-modem0"))
	if err != nil {
		t.Fatal(err)
	}
	node := filepath.Join(tr.root, "dev/bus/usb/001/005")
	if err := os.MkdirAll(filepath.Dir(node), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(node, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	authorized := filepath.Join(d.Path, "authorized")
	if err := os.Remove(authorized); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(authorized, 0o600); err != nil {
		t.Fatal(err)
	}
	// Read-write, so that the FIFO never reads end-of-file between the
	// two writes; what is written arrives in order.
	fifo, err := os.OpenFile(authorized, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fifo.Close()
	if err := tr.sysfs.Reset(d); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 2)
	if _, err := io.ReadFull(fifo, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != "01" {
		t.Errorf("authorized got %q, want 0 then 1", got)
	}
}

// Neither way works (no node, no authorized file, as for a modem that
// left the bus): the error says both.
func TestResetGone(t *testing.T) {
	tr := newTree(t)
	d, err := tr.sysfs.Find(filepath.Join(tr.root, "dev/vigie-modem0"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(d.Path, "authorized")); err != nil {
		t.Fatal(err)
	}
	err = tr.sysfs.Reset(d)
	if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "bus/usb/001/005") || !strings.Contains(err.Error(), "authorized") {
		t.Fatalf("Reset = %v, want both failures", err)
	}
	if _, err := os.Stat(filepath.Join(d.Path, "authorized")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Reset created the authorized file: %v", err)
	}
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"1\n", "5\n", "127\n", "999", "0\n", "1000\n", "-1\n", "+3\n", "005\n", "0x5\n", " 5\n", "5\n\n", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseNumber(s)
		if err != nil {
			return
		}
		if n < 1 || n > 999 {
			t.Fatalf("parseNumber(%q) = %d, out of range", s, n)
		}
		if s != strconv.Itoa(n) && s != strconv.Itoa(n)+"\n" {
			t.Fatalf("parseNumber(%q) = %d: not the canonical form", s, n)
		}
	})
}
