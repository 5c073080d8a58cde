package httpcore_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
)

func TestCleanPath(t *testing.T) {
	tests := []struct {
		in, want string
		status   int
	}{
		{"/", "", 0},
		{"/a", "a", 0},
		{"/a/", "a/", 0},
		{"/a/.", "a/", 0},
		{"//a//b", "a/b", 0},
		{"/./a/./b/.", "a/b/", 0},
		{"/a/../b", "b", 0},
		{"/a/b/..", "a/", 0},
		{"/a/..", "", 0},
		{"/%61%62", "ab", 0},
		{"/%2fa%2Fb", "a/b", 0},
		{"/%252e", "%2e", 0},
		{"/%252e%252e/x", "%2e%2e/x", 0},
		{"/a\\..\\b", "a\\..\\b", 0},
		{"/..\\x", "..\\x", 0},
		{"/...", "...", 0},
		{"/..a/a..", "..a/a..", 0},
		{"/..", "", 400},
		{"/../a", "", 400},
		{"/a/../../b", "", 400},
		{"/%2e%2e", "", 400},
		{"/%2E%2e/x", "", 400},
		{"/a/%2e%2e/%2e%2e", "", 400},
		{"/%zz", "", 400},
		{"/%4", "", 400},
		{"/a%2", "", 400},
		{"/%", "", 400},
		{"/%00", "", 400},
		{"/a%00b", "", 400},
		{"/a\x00b", "", 400},
		{"a", "", 400},
		{"", "", 400},
		{"*", "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := httpcore.CleanPath(nil, []byte(tt.in))
			if tt.status != 0 {
				if err == nil || err.Status != tt.status {
					t.Fatalf("CleanPath(%q): got %q, %v, want status %d", tt.in, got, err, tt.status)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("CleanPath(%q): got %q, %v, want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// translationRoot builds a document root with every kind of entry the
// translation rules name, next to an outside directory it must not reach.
func translationRoot(t testing.TB) string {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	writeFile(t, base, "outside/secret", []byte("SECRET"))
	writeFile(t, root, "index.html", []byte("ROOT"))
	writeFile(t, root, "a.txt", []byte("A"))
	writeFile(t, root, "sub/b.html", []byte("B"))
	writeFile(t, root, "sub/index.html", []byte("SUBINDEX"))
	writeFile(t, root, "noindex/c.txt", []byte("C"))
	writeFile(t, root, "%2e", []byte("PCT"))
	writeFile(t, root, "back\\slash.txt", []byte("BS"))
	writeFile(t, root, "idxdir/index.html/x", []byte("X"))
	must(t, os.Symlink("sub/b.html", filepath.Join(root, "link-in")))
	must(t, os.Symlink("sub", filepath.Join(root, "link-dir-in")))
	must(t, os.Symlink("../outside/secret", filepath.Join(root, "link-out")))
	must(t, os.Symlink(filepath.Join(base, "outside"), filepath.Join(root, "link-dir-out")))
	must(t, os.Symlink("../../outside/secret", filepath.Join(root, "sub", "link-out2")))
	must(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	p := writeFile(t, root, "unreadable.txt", []byte("U"))
	must(t, os.Chmod(p, 0))
	return root
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestTranslate(t *testing.T) {
	root := translationRoot(t)
	tests := []struct {
		name, path string
		status     int
		body       string
	}{
		{"file", "/a.txt", 200, "A"},
		{"escaped name", "/%61.txt", 200, "A"},
		{"nested", "/sub/b.html", 200, "B"},
		{"double slash", "//sub//b.html", 200, "B"},
		{"dot segments", "/./sub/./b.html", 200, "B"},
		{"dotdot inside", "/sub/../a.txt", 200, "A"},
		{"escaped slash", "/sub%2fb.html", 200, "B"},
		{"root index", "/", 200, "ROOT"},
		{"dir index", "/sub/", 200, "SUBINDEX"},
		{"dir index no slash", "/sub", 200, "SUBINDEX"},
		{"dir without index", "/noindex/", 403, ""},
		{"dir without index no slash", "/noindex", 403, ""},
		{"index.html is a dir", "/idxdir/", 403, ""},
		{"missing", "/missing", 404, ""},
		{"missing nested", "/sub/missing.txt", 404, ""},
		{"file as dir", "/a.txt/", 404, ""},
		{"dotdot above root", "/..", 400, ""},
		{"dotdot then file", "/../root/a.txt", 400, ""},
		{"dotdot nested above root", "/sub/../../a.txt", 400, ""},
		{"escaped dotdot", "/%2e%2e/a.txt", 400, ""},
		{"escaped dotdot upper", "/sub/%2E%2E/%2E%2E/outside/secret", 400, ""},
		{"double-escaped dot", "/%252e", 200, "PCT"},
		{"bad escape", "/%zz", 400, ""},
		{"truncated escape", "/a%4", 400, ""},
		{"nul escape", "/a%00.txt", 400, ""},
		{"backslash is a name byte", "/back\\slash.txt", 200, "BS"},
		{"backslash is no separator", "/sub\\b.html", 404, ""},
		{"backslash dotdot", "/..\\a.txt", 404, ""},
		{"symlink inside", "/link-in", 200, "B"},
		{"symlink dir inside", "/link-dir-in/b.html", 200, "B"},
		{"symlink outside", "/link-out", 403, ""},
		{"symlink dir outside", "/link-dir-out/secret", 403, ""},
		{"nested symlink outside", "/sub/link-out2", 403, ""},
		{"fifo", "/fifo", 403, ""},
		{"relative", "a.txt", 400, ""},
	}
	for _, cfg := range []httpcore.Config{{Root: root}, {Root: root, NoPathCache: true, NoHeaderCache: true, NoMmapCache: true}} {
		c := newCore(t, cfg)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for range 2 { // a miss, then a cache hit
					r := do(t, c, get(tt.path))
					if r.status != tt.status {
						t.Fatalf("GET %q: got status %d, want %d", tt.path, r.status, tt.status)
					}
					if tt.status == 200 && string(r.body) != tt.body {
						t.Fatalf("GET %q: got body %q, want %q", tt.path, r.body, tt.body)
					}
				}
			})
		}
	}
}

// TestTranslateUnreadable: a file the server may not read is 403, from a
// miss and from the caches. Root reads any file, so as root (CI) the test
// re-executes itself as nobody, who cannot.
func TestTranslateUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		runAsNobody(t, "TestTranslateUnreadable")
		return
	}
	root := translationRoot(t)
	if f, err := os.Open(filepath.Join(root, "unreadable.txt")); !errors.Is(err, os.ErrPermission) {
		if f != nil {
			f.Close()
		}
		t.Skipf("open of a mode 000 file as uid %d: got %v, want permission denied (a capability overrides file modes)", os.Geteuid(), err)
	}
	for _, caches := range []bool{true, false} {
		c := newCore(t, httpcore.Config{Root: root, NoPathCache: !caches, NoHeaderCache: !caches, NoMmapCache: !caches})
		for range 2 { // a miss, then a cache hit
			if r := do(t, c, get("/unreadable.txt")); r.status != 403 {
				t.Fatalf("GET /unreadable.txt as uid %d, caches %v: got status %d, want 403", os.Geteuid(), caches, r.status)
			}
		}
	}
}

// nobody is the user and group runAsNobody runs tests as.
const nobody = 65534

// runAsNobody runs the test named name of this test binary as nobody and
// fails t unless it ran and passed there. The binary is copied where
// nobody can run it, with a temporary directory nobody can write.
func runAsNobody(t *testing.T, name string) {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		must(t, os.Chmod(d, 0o755))
	}
	var fs unix.Statfs_t
	must(t, unix.Statfs(dir, &fs))
	if fs.Flags&unix.ST_NOEXEC != 0 {
		t.Skipf("%s is mounted noexec: the test binary cannot run from it as nobody", dir)
	}
	bin, tmp := filepath.Join(dir, "httpcore.test"), filepath.Join(dir, "tmp")
	b, err := os.ReadFile(os.Args[0])
	must(t, err)
	must(t, os.WriteFile(bin, b, 0o755))
	must(t, os.Mkdir(tmp, 0o755))
	must(t, os.Chmod(tmp, 0o1777))
	cmd := exec.Command(bin, "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "TMPDIR="+tmp)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name+" ") {
		t.Fatalf("%s as uid %d: got %v, want it run and passed:\n%s", name, nobody, err, out)
	}
}

func TestResolveOwnership(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "f.bin", []byte("0123456789"))
	c := newCore(t, httpcore.Config{Root: root})
	f, err := c.Resolve([]byte("/f.bin"))
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if f.Size() != 10 || f.Fd() < 0 || f.ModTime().IsZero() || f.ContentType() != httpcore.DefaultMIMEType {
		t.Fatalf("got size %d fd %d mtime %v type %q", f.Size(), f.Fd(), f.ModTime(), f.ContentType())
	}
	f.Release()
	f2, ok := c.CachedFile([]byte("/f.bin"))
	if !ok || f2 != f {
		t.Fatalf("CachedFile after Resolve: got %p, %v, want %p, true", f2, ok, f)
	}
	f2.Release()
	if _, ok := c.CachedFile([]byte("/other")); ok {
		t.Fatalf("CachedFile of an unresolved path: got true")
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "file", nil)
	for _, cfg := range []httpcore.Config{
		{},
		{Root: filepath.Join(dir, "missing")},
		{Root: file},
		{Root: dir, ChunkSize: 1000},
	} {
		if c, err := httpcore.New(cfg); err == nil {
			c.Close()
			t.Errorf("New(%+v): got no error", cfg)
		}
	}
}
