package fileset_test

import (
	"os"
	"path/filepath"
	"testing"

	"flashbench/fileset"

	"golang.org/x/sys/unix"
)

func TestEvictThenResident(t *testing.T) {
	dir := t.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Type == unix.TMPFS_MAGIC {
		t.Skipf("%s is on tmpfs, whose pages cannot be evicted", dir)
	}
	m, err := fileset.Generate(fileset.Options{Kind: fileset.KindFixed, Dir: dir, Seed: 1, SizeBytes: 1 << 20, Count: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Files {
		if _, err := os.ReadFile(dir + "/" + f.Path); err != nil {
			t.Fatal(err)
		}
	}
	res, total, err := fileset.Resident(m, dir)
	if err != nil || res != total || total != 4<<20 {
		t.Fatalf("after reading: got resident %d of %d, %v; want %d of %d", res, total, err, 4<<20, 4<<20)
	}
	if err := fileset.Evict(m, dir); err != nil {
		t.Fatal(err)
	}
	res, total, err = fileset.Resident(m, dir)
	if err != nil || res >= total {
		t.Fatalf("after evict: got resident %d of %d, %v; want less than %d", res, total, err, total)
	}
}

func TestResidentMissingFile(t *testing.T) {
	dir := t.TempDir()
	m, err := fileset.Generate(fileset.Options{Kind: fileset.KindSingle, Dir: dir, Seed: 1, SizeBytes: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir + "/single/file"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := fileset.Resident(m, dir); err == nil {
		t.Errorf("Resident with a missing file: got nil error")
	}
	if err := fileset.Evict(m, dir); err == nil {
		t.Errorf("Evict with a missing file: got nil error")
	}
}

// TestInMemory checks that /dev/shm, a tmpfs, is in memory, and that a
// missing directory is an error. It skips where /dev/shm is no tmpfs.
func TestInMemory(t *testing.T) {
	if mem, err := fileset.InMemory("/dev/shm"); err != nil || !mem {
		var fs unix.Statfs_t
		unix.Statfs("/dev/shm", &fs)
		if err == nil && fs.Type != unix.TMPFS_MAGIC {
			t.Skipf("/dev/shm is not a tmpfs here (statfs type %#x)", fs.Type)
		}
		t.Errorf("InMemory(/dev/shm): got %v, %v; want true", mem, err)
	}
	if _, err := fileset.InMemory(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("InMemory of a missing directory: got nil error")
	}
}
