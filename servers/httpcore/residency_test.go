package httpcore

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestFileResident checks both residency tests against the page cache: a
// file just written is resident; after its pages are dropped it is not
// (on a file system whose pages can be dropped: not tmpfs).
func TestFileResident(t *testing.T) {
	const size = 64 << 10
	f, fs := residencyFile(t, size)
	for _, tt := range []struct {
		name string
		test func(off, n int64) bool
	}{
		{"cachestat", f.Resident},
		{"mincore", f.residentMincore},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := unix.Fdatasync(f.Fd()); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, size)
			if _, err := unix.Pread(f.Fd(), buf, 0); err != nil {
				t.Fatal(err)
			}
			if !tt.test(0, size) || !tt.test(5000, 100) {
				t.Errorf("%s after reading the file: got not resident, want resident", tt.name)
			}
			if fs.Type == unix.TMPFS_MAGIC {
				t.Skip("tmpfs pages cannot be dropped from the page cache")
			}
			if err := unix.Fadvise(f.Fd(), 0, 0, unix.FADV_DONTNEED); err != nil {
				t.Fatal(err)
			}
			if tt.test(0, size) {
				t.Errorf("%s after FADV_DONTNEED: got resident, want not resident", tt.name)
			}
		})
	}
	if got := pagesIn(int64(pageSize)-1, 2); got != 2 {
		t.Errorf("pagesIn(page-1, 2): got %d, want 2", got)
	}
}

// TestResidentAtRemembers checks the memory of ResidentAt: a whole-file
// range found resident is trusted for the memo without a test, a part of
// the file is tested every time, and after the memo the test runs again.
func TestResidentAtRemembers(t *testing.T) {
	const size = 64 << 10
	f, fs := residencyFile(t, size)
	if fs.Type == unix.TMPFS_MAGIC {
		t.Skip("tmpfs pages cannot be dropped from the page cache")
	}
	if err := unix.Fdatasync(f.Fd()); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Pread(f.Fd(), make([]byte, size), 0); err != nil {
		t.Fatal(err)
	}
	const memo = 10 * time.Millisecond
	if !f.ResidentAt(0, size, 0, memo) {
		t.Fatal("ResidentAt after reading the file: got not resident, want resident")
	}
	if err := unix.Fadvise(f.Fd(), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		off, n int64
		now    time.Duration
		want   bool
	}{
		{"whole file within the memo", 0, size, memo - 1, true},
		{"part of the file within the memo", 4096, 100, memo / 2, false},
		{"whole file after the memo", 0, size, memo, false},
	} {
		if got := f.ResidentAt(tt.off, tt.n, int64(tt.now), memo); got != tt.want {
			t.Errorf("%s: ResidentAt(%d, %d, %v) after FADV_DONTNEED: got %v, want %v", tt.name, tt.off, tt.n, tt.now, got, tt.want)
		}
	}
}

// residencyFile writes a file of size zero bytes in a temporary directory
// and resolves it through a core; both are released when t ends. It also
// returns the directory's file system, whose pages tmpfs cannot drop.
func residencyFile(t *testing.T, size int) (*File, unix.Statfs_t) {
	t.Helper()
	dir := t.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	core, err := New(Config{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close() })
	f, e := core.Resolve([]byte("/f"))
	if e != nil {
		t.Fatal(e)
	}
	t.Cleanup(f.Release)
	return f, fs
}
