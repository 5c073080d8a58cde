package fileset_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"flashbench/fileset"

	"golang.org/x/sys/unix"
)

func TestGenerateSPECweb99Layout(t *testing.T) {
	m, dir := sharedSPECweb99(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	dirs := 0
	for _, e := range entries {
		if !e.IsDir() {
			if e.Name() != fileset.ManifestName {
				t.Errorf("unexpected file %s in the set directory", e.Name())
			}
			continue
		}
		dirs++
		if want := fmt.Sprintf("dir%05d", dirs-1); e.Name() != want {
			t.Errorf("directory %d: got %s, want %s", dirs-1, e.Name(), want)
		}
		files, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 36 {
			t.Errorf("%s: got %d files, want 36", e.Name(), len(files))
		}
		base := [4]int64{1024, 10240, 102400, 1024000}
		for c := 0; c < 4; c++ {
			for f := 0; f < 9; f++ {
				fi, err := os.Stat(filepath.Join(dir, e.Name(), fmt.Sprintf("class%d_%d", c, f)))
				if err != nil {
					t.Fatal(err)
				}
				if want := base[c] * int64(f+1) / 10; fi.Size() != want {
					t.Errorf("%s/class%d_%d: got %d bytes, want %d", e.Name(), c, f, fi.Size(), want)
				}
			}
		}
	}
	if dirs != 31 || m.Directories != 31 || len(m.Files) != 31*36 {
		t.Errorf("connections 10: got %d directories (manifest %d, %d files), want 31 (1116 files)", dirs, m.Directories, len(m.Files))
	}
}

func TestManifestChecksumsMatchBytes(t *testing.T) {
	m, dir := sharedSPECweb99(t)
	read, err := fileset.ReadManifest(filepath.Join(dir, fileset.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	if read.TotalBytes != m.TotalBytes || len(read.Files) != len(m.Files) {
		t.Fatalf("manifest on disk: got %d files %d bytes, want %d files %d bytes", len(read.Files), read.TotalBytes, len(m.Files), m.TotalBytes)
	}
	for _, f := range read.Files {
		data, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
			t.Fatalf("%s: got sha256 %s, want %s", f.Path, got, f.SHA256)
		}
		if int64(len(data)) != f.SizeBytes {
			t.Fatalf("%s: got %d bytes, want %d", f.Path, len(data), f.SizeBytes)
		}
	}
}

func TestGenerateIsIdempotent(t *testing.T) {
	_, dir := sharedSPECweb99(t)
	before := snapshot(t, dir)
	m, err := fileset.Generate(fileset.Options{Kind: fileset.KindSPECweb99, Dir: dir, Seed: 7, Connections: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Reused {
		t.Errorf("second run: got Reused false, want true")
	}
	after := snapshot(t, dir)
	if len(after) != len(before) {
		t.Fatalf("second run: got %d entries, want %d", len(after), len(before))
	}
	for name, st := range before {
		if after[name] != st {
			t.Errorf("%s rewritten by the second run: inode/mtime %v, want %v", name, after[name], st)
		}
	}
}

type fileStamp struct {
	ino   uint64
	mtime int64
}

// snapshot records the inode and mtime of every regular file under dir.
func snapshot(t *testing.T, dir string) map[string]fileStamp {
	t.Helper()
	out := map[string]fileStamp{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			return err
		}
		out[p] = fileStamp{st.Ino, st.Mtim.Nano()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGenerateSPECweb96Sizes(t *testing.T) {
	dir := t.TempDir()
	m, err := fileset.Generate(fileset.Options{Kind: fileset.KindSPECweb96, Dir: dir, Seed: 1, Connections: 1})
	if err != nil {
		t.Fatal(err)
	}
	if m.Directories != 25 {
		t.Errorf("connections 1: got %d directories, want 25", m.Directories)
	}
	want := [4][9]int64{
		{102, 205, 307, 410, 512, 614, 717, 819, 922},
		{1024, 2048, 3072, 4096, 5120, 6144, 7168, 8192, 9216},
		{10240, 20480, 30720, 40960, 51200, 61440, 71680, 81920, 92160},
		{102400, 204800, 307200, 409600, 512000, 614400, 716800, 819200, 921600},
	}
	for _, d := range []int{0, 24} {
		for c := range want {
			for f, size := range want[c] {
				name := fmt.Sprintf("dir%05d/class%d_%d", d, c, f)
				fi, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Size() != size {
					t.Errorf("%s: got %d bytes, want %d", name, fi.Size(), size)
				}
			}
		}
	}
}

func TestGenerateFixedAndSingle(t *testing.T) {
	tests := []struct {
		name  string
		opts  fileset.Options
		paths []string
	}{
		{"fixed 500 B", fileset.Options{Kind: fileset.KindFixed, SizeBytes: 500, Count: 3}, []string{"fixed/f000000", "fixed/f000001", "fixed/f000002"}},
		{"fixed 50 KB", fileset.Options{Kind: fileset.KindFixed, SizeBytes: 50 << 10, Count: 2}, []string{"fixed/f000000", "fixed/f000001"}},
		{"single", fileset.Options{Kind: fileset.KindSingle, SizeBytes: 6000}, []string{"single/file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Dir = t.TempDir()
			m, err := fileset.Generate(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Files) != len(tt.paths) || m.TotalBytes != tt.opts.SizeBytes*int64(len(tt.paths)) {
				t.Fatalf("got %d files, %d bytes; want %d files of %d bytes", len(m.Files), m.TotalBytes, len(tt.paths), tt.opts.SizeBytes)
			}
			for i, p := range tt.paths {
				data, err := os.ReadFile(filepath.Join(tt.opts.Dir, p))
				if err != nil {
					t.Fatal(err)
				}
				if m.Files[i].Path != p || int64(len(data)) != tt.opts.SizeBytes {
					t.Errorf("file %d: got %s with %d bytes, want %s with %d", i, m.Files[i].Path, len(data), p, tt.opts.SizeBytes)
				}
				if bytes.ContainsFunc(data, func(r rune) bool { return r != '\n' && (r < ' ' || r > '~') }) {
					t.Errorf("%s: content is not printable text", p)
				}
			}
		})
	}
}

func TestGenerateDeterministicFromSeed(t *testing.T) {
	gen := func(seed uint64) []byte {
		dir := t.TempDir()
		if _, err := fileset.Generate(fileset.Options{Kind: fileset.KindFixed, Dir: dir, Seed: seed, SizeBytes: 100000, Count: 2}); err != nil {
			t.Fatal(err)
		}
		a, err := os.ReadFile(filepath.Join(dir, "fixed/f000000"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "fixed/f000001"))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(a, b) {
			t.Errorf("seed %d: two paths got identical content", seed)
		}
		return append(a, b...)
	}
	if a, b := gen(42), gen(42); !bytes.Equal(a, b) {
		t.Errorf("seed 42 twice: got different bytes, want identical")
	}
	if a, b := gen(42), gen(43); bytes.Equal(a, b) {
		t.Errorf("seeds 42 and 43: got identical bytes, want different")
	}
}

func TestGenerateReplacesDifferentSet(t *testing.T) {
	dir := t.TempDir()
	if _, err := fileset.Generate(fileset.Options{Kind: fileset.KindFixed, Dir: dir, Seed: 1, SizeBytes: 10, Count: 4}); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "fixed", "notes.txt")
	if err := os.WriteFile(foreign, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := fileset.Generate(fileset.Options{Kind: fileset.KindFixed, Dir: dir, Seed: 1, SizeBytes: 20, Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	if m.Reused {
		t.Fatalf("different parameters: got Reused true, want a new set")
	}
	for _, tt := range []struct {
		path   string
		exists bool
	}{{"fixed/f000000", true}, {"fixed/f000001", true}, {"fixed/f000002", false}, {"fixed/f000003", false}, {"fixed/notes.txt", true}} {
		_, err := os.Stat(filepath.Join(dir, tt.path))
		if got := err == nil; got != tt.exists {
			t.Errorf("%s: got exists=%v, want %v", tt.path, got, tt.exists)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "fixed/f000000")); err != nil || fi.Size() != 20 {
		t.Errorf("fixed/f000000 after regeneration: got %v, %v; want 20 bytes", fi, err)
	}
}

func TestGenerateRejectsBadOptions(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts fileset.Options
		want string
	}{
		{"unknown kind", fileset.Options{Kind: "specweb2005", Connections: 1}, "unknown kind"},
		{"zero size", fileset.Options{Kind: fileset.KindFixed, Count: 1}, "positive size"},
		{"negative size", fileset.Options{Kind: fileset.KindSingle, SizeBytes: -1}, "positive size"},
		{"zero count", fileset.Options{Kind: fileset.KindFixed, SizeBytes: 1}, "positive count"},
		{"no connections", fileset.Options{Kind: fileset.KindSPECweb99}, "positive connection count"},
		{"size on specweb", fileset.Options{Kind: fileset.KindSPECweb96, Connections: 1, SizeBytes: 5}, "no size"},
		{"no dir", fileset.Options{Kind: fileset.KindSingle, SizeBytes: 1, Dir: "-"}, "no directory"},
		{"unwritable dir", fileset.Options{Kind: fileset.KindSingle, SizeBytes: 1, Dir: filepath.Join(file, "set")}, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Dir == "-" {
				tt.opts.Dir = ""
			} else if tt.opts.Dir == "" {
				tt.opts.Dir = t.TempDir()
			}
			m, err := fileset.Generate(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Generate(%+v): got %v, %v; want error containing %q", tt.opts, m, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "fileset: ") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want one line starting with \"fileset: \"", err)
			}
		})
	}
}

// mountTmpfs mounts a tmpfs of the given size on a fresh directory for the
// test, or skips the test where mounting is not allowed.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("mount tmpfs: %v (no CAP_SYS_ADMIN here)", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

func TestGenerateFullDisk(t *testing.T) {
	dir := mountTmpfs(t, "1m")
	if _, err := fileset.Generate(fileset.Options{Kind: fileset.KindFixed, Dir: dir, Seed: 1, SizeBytes: 1000, Count: 2}); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, fileset.ManifestName)
	earlier, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fileset.Generate(fileset.Options{Kind: fileset.KindFixed, Dir: dir, Seed: 1, SizeBytes: 300 << 10, Count: 5})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("5 x 300 KB on a 1 MB tmpfs: got %v, want ENOSPC", err)
	}
	if got, _ := os.ReadFile(manifest); !bytes.Equal(got, earlier) {
		t.Errorf("earlier manifest changed by the failed run")
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "*", ".*tmp*"))
	top, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
	if len(leftovers)+len(top) > 0 {
		t.Errorf("temporary files left behind: %v %v", leftovers, top)
	}
}

func TestGenerateGrowingSetKeepsFiles(t *testing.T) {
	dir := t.TempDir()
	opts := fileset.Options{Kind: fileset.KindFixed, Dir: dir, Seed: 4, SizeBytes: 4096, Count: 2}
	if _, err := fileset.Generate(opts); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	opts.Count = 3
	m, err := fileset.Generate(opts)
	if err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, dir)
	for _, name := range []string{"fixed/f000000", "fixed/f000001"} {
		p := filepath.Join(dir, name)
		if after[p] != before[p] {
			t.Errorf("%s rewritten when the set grew: got %v, want %v", name, after[p], before[p])
		}
	}
	fresh := t.TempDir()
	opts.Dir = fresh
	want, err := fileset.Generate(opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Files {
		if m.Files[i] != want.Files[i] {
			t.Errorf("grown set file %d: got %+v, want %+v as generated from scratch", i, m.Files[i], want.Files[i])
		}
	}
}

func TestGenerateOtherSeedFailureLeavesNoWrongManifest(t *testing.T) {
	dir := mountTmpfs(t, "1m")
	opts := fileset.Options{Kind: fileset.KindFixed, Dir: dir, Seed: 1, SizeBytes: 300 << 10, Count: 2}
	if _, err := fileset.Generate(opts); err != nil {
		t.Fatal(err)
	}
	opts.Seed, opts.Count = 2, 5 // rewrites the two files with other bytes, then runs out of space
	if _, err := fileset.Generate(opts); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("seed 2, 5 x 300 KB on a 1 MB tmpfs: got %v, want ENOSPC", err)
	}
	if _, err := os.Stat(filepath.Join(dir, fileset.ManifestName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("manifest of seed 1 after seed 2 rewrote its files: got %v, want it removed", err)
	}
	strays, _ := filepath.Glob(filepath.Join(dir, "fixed", "f00000[2-9]"))
	for _, name := range strays { // files of seed 2 no manifest lists: make room
		os.Remove(name)
	}
	opts.Seed, opts.Count = 1, 2
	m, err := fileset.Generate(opts)
	if err != nil {
		t.Fatal(err)
	}
	if m.Reused {
		t.Errorf("seed 1 again: got a reused set, want it regenerated")
	}
}
