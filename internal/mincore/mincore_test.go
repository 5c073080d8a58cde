package mincore_test

import (
	"os"
	"path/filepath"
	"testing"

	"flashbench/internal/mincore"

	"golang.org/x/sys/unix"
)

func TestPages(t *testing.T) {
	page := os.Getpagesize()
	name := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(name, make([]byte, 3*page), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := unix.Mmap(int(f.Fd()), 0, 3*page, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(b)
	_ = b[0] + b[page] + b[2*page] // fault every page in
	vec := make([]byte, 3)
	if err := mincore.Pages(b, vec); err != nil {
		t.Fatal(err)
	}
	for i, v := range vec {
		if v&1 == 0 {
			t.Errorf("page %d of a just-read mapping: got not resident, want resident", i)
		}
	}
	if err := mincore.Pages(b, vec[:2]); err == nil {
		t.Errorf("3 pages with a 2-byte vector: got nil error, want EINVAL")
	}
	if err := mincore.Pages(nil, nil); err != nil {
		t.Errorf("empty mapping: got %v, want nil", err)
	}
}
