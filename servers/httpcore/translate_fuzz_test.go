package httpcore_test

import (
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"flashbench/servers/httpcore"

	"golang.org/x/sys/unix"
)

// FuzzTranslate checks, for arbitrary request paths, that translation
// never panics, that a cleaned path never climbs, and that any path that
// resolves opens one of the regular files beneath the root (by device and
// inode, from a walk of the root), never the file next to it.
func FuzzTranslate(f *testing.F) {
	root := translationRoot(f)
	inRoot := map[[2]uint64]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			return err
		}
		inRoot[[2]uint64{st.Dev, st.Ino}] = true
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	c := newCore(f, httpcore.Config{Root: root, PathCacheEntries: 4, MmapCacheBytes: 1 << 20})
	f.Add("/a.txt")
	f.Add("/link-out")
	f.Fuzz(func(t *testing.T, path string) {
		clean, cerr := httpcore.CleanPath(nil, []byte(path))
		if cerr == nil {
			s := string(clean)
			if strings.HasPrefix(s, "/") || strings.Contains(s, "//") || strings.ContainsRune(s, 0) ||
				s == ".." || strings.HasPrefix(s, "../") || strings.Contains(s, "/../") || strings.HasSuffix(s, "/..") {
				t.Fatalf("CleanPath(%q) = %q: not a path beneath the root", path, s)
			}
		}
		file, err := c.Resolve([]byte(path))
		if err != nil {
			switch err.Status {
			case 400, 403, 404, 414:
			default:
				t.Fatalf("Resolve(%q): got status %d (%v)", path, err.Status, err)
			}
			if cerr != nil && err.Status != cerr.Status {
				t.Fatalf("Resolve(%q): got %d, CleanPath said %d", path, err.Status, cerr.Status)
			}
		} else {
			var st syscall.Stat_t
			if serr := syscall.Fstat(file.Fd(), &st); serr != nil {
				t.Fatalf("fstat: %v", serr)
			}
			if !inRoot[[2]uint64{st.Dev, st.Ino}] {
				t.Fatalf("Resolve(%q) opened %s (dev %d ino %d), not a file beneath the root", path, file.Name(), st.Dev, st.Ino)
			}
			file.Release()
		}
		var p httpcore.Plan
		c.Respond(get(path), &p)
		if (err == nil) != (p.Status == 200) {
			t.Fatalf("Respond(%q): got %d, Resolve said %v", path, p.Status, err)
		}
		p.Release()
	})
}
