package atomicfile_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"flashbench/internal/atomicfile"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "doc.json")
	for _, data := range []string{"first\n", "second, longer\n"} {
		if err := atomicfile.WriteFile(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != data {
			t.Fatalf("after WriteFile(%q): got %q, %v; want the new content", data, got, err)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode: got %v, want 0644", fi.Mode().Perm())
	}
	if left := temps(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestWriteFailureKeepsEarlierFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "doc.json")
	if err := atomicfile.WriteFile(path, []byte("earlier\n")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := atomicfile.Write(path, func(w io.Writer) error {
		io.WriteString(w, "half a docu")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write with a failing writer: got %v, want %v", err, boom)
	}
	if got, _ := os.ReadFile(path); string(got) != "earlier\n" {
		t.Errorf("after a failed Write: got %q, want the earlier file", got)
	}
	if left := temps(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "no", "such", "dir"), nil); err == nil {
		t.Errorf("WriteFile into a missing directory: got nil, want an error")
	}
}

func temps(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
