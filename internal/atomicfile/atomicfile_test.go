package atomicfile_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
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

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	earlier := filepath.Join(dir, "earlier.json")
	if err := atomicfile.WriteFile(earlier, []byte("kept\n")); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		want       string // "" for no error
	}{
		{"new file", filepath.Join(dir, "new.json"), ""},
		{"over an earlier file", earlier, ""},
		{"missing directory", filepath.Join(dir, "no", "doc.json"), "cannot create a file in " + filepath.Join(dir, "no") + ": no such file or directory"},
		{"under a file", filepath.Join(plain, "doc.json"), "cannot create a file in " + plain + ": not a directory"},
		{"a directory", dir, dir + ": is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := atomicfile.Check(tt.path)
			if (err == nil) != (tt.want == "") || (err != nil && !strings.HasSuffix(err.Error(), tt.want)) {
				t.Errorf("Check(%s): got %v, want %q", tt.path, err, tt.want)
			}
		})
	}
	if got, _ := os.ReadFile(earlier); string(got) != "kept\n" {
		t.Errorf("after Check: got %q, want the earlier file as it was", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "new.json")); !os.IsNotExist(err) {
		t.Errorf("Check(new.json) made the file: %v", err)
	}
	if left := temps(t, dir); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
