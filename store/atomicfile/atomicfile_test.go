package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

// A file replaced has the new content and mode, and no temporary file is
// left beside it; a write into a missing directory fails and names it.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rapport.html")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "new" {
		t.Fatalf("content %q, %v; want %q", b, err, "new")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".rapport.html.tmp*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	missing := filepath.Join(dir, "absent", "f")
	if err := WriteFile(missing, []byte("x"), 0o600); err == nil {
		t.Error("a write into a missing directory succeeded")
	}
}
