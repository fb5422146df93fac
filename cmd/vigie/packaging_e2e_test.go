//go:build e2e

// The Debian package: built as `make deb` builds it (a static binary, the
// hidden `vigie gendocs`, systemd/nfpm.yaml run by the nfpm pinned in
// go.mod), then opened with dpkg-deb and, as root in CI, installed.
package main

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// debFiles are the paths the package must install, with their modes.
var debFiles = map[string]string{
	"./usr/bin/vigie":                                  "-rwxr-xr-x",
	"./lib/systemd/system/vigie.service":               "-rw-r--r--",
	"./lib/udev/rules.d/99-vigie-modem.rules":          "-rw-r--r--",
	"./usr/lib/sysusers.d/vigie.conf":                  "-rw-r--r--",
	"./usr/lib/modules-load.d/vigie.conf":              "-rw-r--r--",
	"./etc/vigie/vigie.toml":                           "-rw-r--r--",
	"./usr/share/man/man1/vigie.1.gz":                  "-rw-r--r--",
	"./usr/share/man/man1/vigie-serve.1.gz":            "-rw-r--r--",
	"./usr/share/man/man1/vigie-completion-bash.1.gz":  "-rw-r--r--",
	"./usr/share/man/man5/vigie.toml.5.gz":             "-rw-r--r--",
	"./usr/share/doc/vigie/guide-installation.md":      "-rw-r--r--",
	"./usr/share/doc/vigie/fiche-operateur.md":         "-rw-r--r--",
	"./usr/share/bash-completion/completions/vigie":    "-rw-r--r--",
	"./usr/share/zsh/vendor-completions/_vigie":        "-rw-r--r--",
	"./usr/share/fish/vendor_completions.d/vigie.fish": "-rw-r--r--",
}

// debNeedTool skips the test when a system tool is missing, except in CI,
// which installs them (.ci/run) and must not pass by skipping.
func debNeedTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing in CI", name)
		}
		t.Skipf("%s missing", name)
	}
}

func debRun(t *testing.T, dir string, env []string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out
}

// buildDeb builds the amd64 package in a temporary copy of the layout
// nfpm.yaml expects (paths relative to the top of the repository) and
// returns its path.
func buildDeb(t *testing.T, version string) string {
	t.Helper()
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	for _, d := range []string{"systemd", "configs"} {
		if err := os.Symlink(filepath.Join(repo, d), filepath.Join(work, d)); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(work, "bin")
	debRun(t, ".", []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"},
		"go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", filepath.Join(bin, "vigie-linux-amd64"), ".")
	nfpm := filepath.Join(t.TempDir(), "nfpm")
	debRun(t, ".", nil, "go", "build", "-o", nfpm, "github.com/goreleaser/nfpm/v2/cmd/nfpm")

	debRun(t, work, []string{"SOURCE_DATE_EPOCH=1767225600"}, filepath.Join(bin, "vigie-linux-amd64"),
		"gendocs", "--man", "bin/man", "--completions", "bin/completions")
	pages, err := filepath.Glob(filepath.Join(bin, "man", "*.[15]"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no man pages: %v", err)
	}
	debRun(t, work, nil, "gzip", append([]string{"-9n"}, pages...)...)

	if err := os.Mkdir(filepath.Join(work, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	debRun(t, work, []string{"DEB_ARCH=amd64", "VIGIE_BIN=bin/vigie-linux-amd64", "DEB_VERSION=" + version, "SOURCE_DATE_EPOCH=1767225600"},
		nfpm, "package", "--config", "systemd/nfpm.yaml", "--packager", "deb", "--target", "out/")
	deb := filepath.Join(work, "out", "vigie_"+version+"_amd64.deb")
	if _, err := os.Stat(deb); err != nil {
		t.Fatal(err)
	}
	return deb
}

func TestDebPackage(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the amd64 package is checked on linux/amd64")
	}
	debNeedTool(t, "dpkg-deb")
	debNeedTool(t, "gzip")
	const version = "1.2.3+4.gabcdef0"
	deb := buildDeb(t, version)

	t.Run("control", func(t *testing.T) {
		info := string(debRun(t, ".", nil, "dpkg-deb", "--info", deb))
		for _, s := range []string{"Package: vigie", "Version: " + version, "Architecture: amd64", "Section: comm", "Recommends: bash-completion"} {
			if !strings.Contains(info, s) {
				t.Errorf("dpkg-deb --info lacks %q:\n%s", s, info)
			}
		}
		ctrl := t.TempDir()
		debRun(t, ".", nil, "dpkg-deb", "--control", deb, ctrl)
		conffiles, err := os.ReadFile(filepath.Join(ctrl, "conffiles"))
		if err != nil {
			t.Fatal(err)
		}
		if string(conffiles) != "/etc/vigie/vigie.toml\n" {
			t.Errorf("conffiles = %q", conffiles)
		}
		for _, script := range []string{"postinst", "prerm", "postrm"} {
			fi, err := os.Stat(filepath.Join(ctrl, script))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm()&0o111 == 0 {
				t.Errorf("%s not executable: %v", script, fi.Mode())
			}
			debRun(t, ".", nil, "sh", "-n", filepath.Join(ctrl, script))
		}
		postinst, _ := os.ReadFile(filepath.Join(ctrl, "postinst"))
		for _, s := range []string{"systemd-sysusers vigie.conf", "udevadm control --reload-rules", "daemon-reload", "deb-systemd-helper enable vigie.service"} {
			if !strings.Contains(string(postinst), s) {
				t.Errorf("postinst lacks %q", s)
			}
		}
	})

	t.Run("contents", func(t *testing.T) {
		listing := string(debRun(t, ".", nil, "dpkg-deb", "--contents", deb))
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(listing), "\n") {
			f := strings.Fields(line)
			if len(f) < 6 {
				t.Fatalf("odd line %q", line)
			}
			if f[1] != "root/root" {
				t.Errorf("%s owned by %s", f[5], f[1])
			}
			got[f[5]] = f[0]
		}
		for path, mode := range debFiles {
			if got[path] != mode {
				t.Errorf("%s: mode %q, want %q", path, got[path], mode)
			}
		}
		for path := range got {
			if strings.Contains(path, "gendocs") || strings.HasPrefix(path, "./var/") || strings.HasPrefix(path, "./run/") {
				t.Errorf("unexpected %s", path)
			}
		}
	})

	t.Run("files", func(t *testing.T) {
		root := t.TempDir()
		debRun(t, ".", nil, "dpkg-deb", "--extract", deb, root)

		// A static binary (no interpreter) that says its version.
		f, err := elf.Open(filepath.Join(root, "usr/bin/vigie"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if f.Machine != elf.EM_X86_64 || slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP }) {
			t.Errorf("usr/bin/vigie: machine %v, or dynamically linked", f.Machine)
		}
		if out := debRun(t, ".", nil, filepath.Join(root, "usr/bin/vigie"), "--version"); !strings.Contains(string(out), version) {
			t.Errorf("vigie --version = %q", out)
		}

		for src, dst := range map[string]string{
			"configs/vigie.toml":                "etc/vigie/vigie.toml",
			"systemd/vigie.service":             "lib/systemd/system/vigie.service",
			"systemd/99-vigie-modem.rules":      "lib/udev/rules.d/99-vigie-modem.rules",
			"systemd/vigie.sysusers":            "usr/lib/sysusers.d/vigie.conf",
			"configs/doc/guide-installation.md": "usr/share/doc/vigie/guide-installation.md",
			"configs/doc/fiche-operateur.md":    "usr/share/doc/vigie/fiche-operateur.md",
		} {
			want, err := os.ReadFile(filepath.Join("../..", src))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := os.ReadFile(filepath.Join(root, dst)); err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (%v)", dst, src, err)
			}
		}

		gz, err := os.Open(filepath.Join(root, "usr/share/man/man1/vigie.1.gz"))
		if err != nil {
			t.Fatal(err)
		}
		defer gz.Close()
		zr, err := gzip.NewReader(gz)
		if err != nil {
			t.Fatal(err)
		}
		page, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(page), `.TH "VIGIE" "1" "2026-01-01" "Vigie `+version) {
			t.Errorf("vigie.1: %.200s", page)
		}
	})

	t.Run("install", func(t *testing.T) { testDebInstall(t, deb, version) })
}

// testDebInstall installs the package for real with dpkg, as root, in CI
// (or with VIGIE_TEST_DPKG=1): the maintainer scripts run, the user exists,
// the unit is enabled and verifies; purge takes the files away again, and
// the user and group go if the test made them. It never touches a vigie
// package that is already installed.
func testDebInstall(t *testing.T, deb, version string) {
	if os.Getenv("CI") == "" && os.Getenv("VIGIE_TEST_DPKG") != "1" {
		t.Skip("installs a package on this machine: CI or VIGIE_TEST_DPKG=1")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	debNeedTool(t, "dpkg")
	if out, _ := exec.Command("dpkg-query", "-W", "-f", "${Status}", "vigie").Output(); strings.Contains(string(out), "installed") {
		t.Skipf("a vigie package is already installed (%s)", out)
	}
	hadUser := exec.Command("getent", "passwd", "vigie").Run() == nil
	hadGroup := exec.Command("getent", "group", "vigie").Run() == nil

	debRun(t, ".", []string{"DEBIAN_FRONTEND=noninteractive"}, "dpkg", "-i", deb)
	t.Cleanup(func() {
		if out, err := exec.Command("dpkg", "--purge", "vigie").CombinedOutput(); err != nil {
			t.Errorf("dpkg --purge vigie: %v\n%s", err, out)
		}
		for _, p := range []string{"/usr/bin/vigie", "/etc/vigie", "/etc/systemd/system/multi-user.target.wants/vigie.service"} {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("%s still there after purge", p)
			}
		}
		if !hadUser {
			exec.Command("userdel", "vigie").Run()
		}
		if !hadGroup {
			exec.Command("groupdel", "vigie").Run()
		}
	})

	debRun(t, ".", nil, "getent", "passwd", "vigie")
	debRun(t, ".", nil, "getent", "group", "vigie")
	if _, err := os.Lstat("/etc/systemd/system/multi-user.target.wants/vigie.service"); err != nil {
		t.Errorf("service not enabled: %v", err)
	}
	if out := debRun(t, ".", nil, "stat", "-c", "%U:%G %a", "/etc/vigie"); string(out) != "root:vigie 750\n" {
		t.Errorf("/etc/vigie is %q, want root:vigie 750", out)
	}
	if out := debRun(t, ".", nil, "/usr/bin/vigie", "--version"); !strings.Contains(string(out), version) {
		t.Errorf("vigie --version = %q", out)
	}
	if _, err := exec.LookPath("systemd-analyze"); err == nil {
		debRun(t, ".", nil, "systemd-analyze", "verify", "--man=no", "/lib/systemd/system/vigie.service")
	}
}
