package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// completionMarkers are lines each shell's script cannot do without.
var completionMarkers = map[string]string{
	"bash":       "__start_vigie",
	"zsh":        "#compdef vigie",
	"fish":       "complete -c vigie",
	"powershell": "Register-ArgumentCompleter",
}

func TestGendocsWritesAPagePerVisibleCommand(t *testing.T) {
	man, comp := filepath.Join(t.TempDir(), "man"), filepath.Join(t.TempDir(), "completions")
	t.Setenv("SOURCE_DATE_EPOCH", "1767225600") // 2026-01-01
	t.Setenv("VIGIE_SOCKET", "/tmp/builder.sock")
	out, errOut, code := runCLI(t, "gendocs", "--man", man, "--completions", comp)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if out != "" {
		t.Errorf("gendocs printed %q; want nothing", out)
	}

	// One page per command a user can see, named like man(1) expects.
	var want []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		want = append(want, strings.ReplaceAll(c.CommandPath(), " ", "-")+".1")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				walk(sub)
			}
		}
	}
	walk(newRootCommand(&globalOptions{}))
	entries, err := os.ReadDir(man)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range entries {
		got[e.Name()] = true
	}
	for _, name := range want {
		if !got[name] {
			t.Errorf("no man page %s", name)
		}
	}
	want = append(want, "vigie.toml.5")
	if len(got) != len(want) {
		t.Errorf("%d pages written, want %d: %v", len(got), len(want), entries)
	}
	for _, hidden := range []string{"vigie-gendocs.1", "vigie-help.1"} {
		if got[hidden] {
			t.Errorf("page %s written for a hidden command", hidden)
		}
	}

	page, err := os.ReadFile(filepath.Join(man, "vigie.1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`.TH "VIGIE" "1" "2026-01-01" "Vigie dev" "Manuel de Vigie"`, "Passerelle d'alertes SMS", `\fBvigie\-completion\fR(1)`, defaultSocket} {
		if !strings.Contains(string(page), s) {
			t.Errorf("vigie.1 lacks %q:\n%s", s, page)
		}
	}
	if strings.Contains(string(page), "builder.sock") {
		t.Errorf("vigie.1 shows the builder's VIGIE_SOCKET")
	}
	if strings.Contains(string(page), "Auto generated") {
		t.Errorf("vigie.1 carries cobra's generated-by tag")
	}

	for _, s := range completionScripts {
		b, err := os.ReadFile(filepath.Join(comp, s.file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), completionMarkers[s.shell]) {
			t.Errorf("%s: no %q in the %s script", s.file, completionMarkers[s.shell], s.shell)
		}
	}
}

func TestGendocsOneDirectoryOnly(t *testing.T) {
	comp := t.TempDir()
	if _, errOut, code := runCLI(t, "gendocs", "--completions", comp); code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	entries, err := os.ReadDir(comp)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(completionScripts) {
		t.Errorf("wrote %v; want only the %d completion scripts", entries, len(completionScripts))
	}
}

func TestGendocsUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no directory", []string{"gendocs"}},
		{"argument", []string{"gendocs", "--man", t.TempDir(), "extra"}},
		{"unknown flag", []string{"gendocs", "--html", t.TempDir()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, errOut, code := runCLI(t, tt.args...); code != exitUsage {
				t.Errorf("exit %d, want %d; stderr %q", code, exitUsage, errOut)
			}
		})
	}
}

func TestGendocsUnwritableDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, "gendocs", "--man", filepath.Join(file, "man"))
	if code != exitError || !strings.Contains(errOut, "gendocs") {
		t.Errorf("exit %d, stderr %q; want %d and the failing step", code, errOut, exitError)
	}
}

func TestCompletion(t *testing.T) {
	for shell, marker := range completionMarkers {
		t.Run(shell, func(t *testing.T) {
			out, errOut, code := runCLI(t, "completion", shell)
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if !strings.Contains(out, marker) {
				t.Errorf("no %q in the script", marker)
			}
		})
	}
	t.Run("no descriptions", func(t *testing.T) {
		with, _, _ := runCLI(t, "completion", "fish")
		without, _, code := runCLI(t, "completion", "fish", "--no-descriptions")
		if code != exitOK || with == without {
			t.Errorf("exit %d; --no-descriptions changed nothing", code)
		}
	})
	t.Run("unknown shell", func(t *testing.T) {
		if _, errOut, code := runCLI(t, "completion", "tcsh"); code != exitUsage {
			t.Errorf("exit %d, want %d; stderr %q", code, exitUsage, errOut)
		}
	})
}

func TestHelpListsCompletionInFrenchAndHidesGendocs(t *testing.T) {
	out, _, code := runCLI(t, "--help")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out, "Script d'autocomplétion du shell") {
		t.Errorf("help does not describe completion in French:\n%s", out)
	}
	if strings.Contains(out, "gendocs") {
		t.Errorf("help shows the hidden gendocs:\n%s", out)
	}
	out, _, _ = runCLI(t, "completion", "bash", "--help")
	if !strings.Contains(out, "source <(vigie completion bash)") || !strings.Contains(out, "Il demande le paquet bash-completion, que le paquet Debian de Vigie\nrecommande ; le paquet de Vigie installe déjà ce script.") {
		t.Errorf("completion bash --help:\n%s", out)
	}
}
