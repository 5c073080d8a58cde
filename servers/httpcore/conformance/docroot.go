package conformance

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// ModTime is the modification time Docroot gives every fixture file, so
// that Last-Modified and If-Modified-Since cases can name it exactly.
var ModTime = time.Date(2001, time.September, 9, 1, 46, 40, 0, time.UTC)

// ModTimeHTTP is ModTime as an HTTP date (IMF-fixdate).
const ModTimeHTTP = "Sun, 09 Sep 2001 01:46:40 GMT"

// Secret is the content of the file outside the root that the escaping
// symlink points to; no response may ever contain it.
const Secret = "flashbench conformance secret: never served\n"

// pngBytes is a valid 1x1 PNG image, so that image/png is served as what it
// claims to be.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01" +
	"\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01" +
	"\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

// fixture lists the regular files of the docroot and their content.
func fixture() map[string][]byte {
	return map[string][]byte{
		"index.html":        []byte("<!DOCTYPE html>\n<html><body>flashbench root index</body></html>\n"),
		"page.html":         []byte("<!DOCTYPE html>\n<html><head><title>page</title></head><body>page</body></html>\n"),
		"style.css":         []byte("body { color: #333; background: #fff; }\n"),
		"image.png":         pngBytes,
		"notes.txt":         []byte("plain text notes\n"),
		"blob.xyzzy":        Pattern(300, 3),
		"500b.txt":          Pattern(500, 1),
		"50k.bin":           Pattern(50*1024, 2),
		"empty.txt":         {},
		"dir/index.html":    []byte("<html><body>dir index</body></html>\n"),
		"dir/inner.txt":     []byte("inner file\n"),
		"noindex/file.txt":  []byte("a file in a directory without an index\n"),
		"with space.txt":    []byte("a file whose name holds a space\n"),
		"a%2eb.txt":         []byte("a file whose name holds a literal percent sign\n"),
		"caf\u00e9.html":    []byte("<html><body>a file whose name is not ASCII</body></html>\n"),
		"deep/er/file.html": []byte("<html><body>deep file</body></html>\n"),
	}
}

// Pattern returns n deterministic bytes derived from seed: printable text
// from a linear congruential generator, so that a body that is shifted,
// truncated or mixed with another file never matches.
func Pattern(n int, seed uint32) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_\n"
	b := make([]byte, n)
	x := seed*2654435761 + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = alphabet[(x>>24)%uint32(len(alphabet))]
	}
	return b
}

// Docroot builds the fixture document root in a fresh temporary directory
// and returns its path. The file the escaping symlink points to lives in a
// sibling temporary directory, outside the root. Every file and directory
// gets ModTime. Both directories are removed when t ends.
func Docroot(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte(Secret), 0o644); err != nil {
		t.Fatalf("conformance: write secret: %v", err)
	}
	for name, data := range fixture() {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatalf("conformance: mkdir for %s: %v", name, err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatalf("conformance: write %s: %v", name, err)
		}
	}
	links := map[string]string{
		"inside-link.html": "page.html",                                       // stays inside the root
		"dir/up-link.txt":  "../notes.txt",                                    // relative, still inside
		"escape.txt":       secret,                                            // absolute, outside the root
		"escape-dir":       outside,                                           // a directory outside the root
		"dir/escape2.txt":  "../../" + filepath.Base(outside) + "/secret.txt", // relative way out
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(name))); err != nil {
			t.Fatalf("conformance: symlink %s: %v", name, err)
		}
	}
	setModTimes(t, root)
	return root
}

// setModTimes gives every file and directory below root ModTime (symlinks
// are followed, which only touches targets inside root or the secret).
func setModTimes(t testing.TB, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.Type()&os.ModeSymlink != 0 {
			return err
		}
		return os.Chtimes(p, ModTime, ModTime)
	})
	if err != nil {
		t.Fatalf("conformance: set mtimes: %v", err)
	}
}

// File returns the content of the fixture file name (slash separated,
// relative to the root) as Docroot wrote it, or nil if there is none.
func File(name string) []byte {
	return fixture()[name]
}
