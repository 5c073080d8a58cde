package loadgen_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/loadgen"
)

// FuzzReadURLList feeds arbitrary files to the URL-list and trace
// readers: they never panic, fail with one line, and every target they
// accept is a path that fits in a request line (no space, no control
// byte that could end or split it).
func FuzzReadURLList(f *testing.F) {
	f.Add([]byte("# hot files\n/fixed/f000000 3\n/fixed/f000001 1.5\n\nhttp://127.0.0.1:8080/x?y=1\n"))
	f.Add([]byte("/a 0\n"))
	f.Add([]byte("/a b c\n"))
	f.Add([]byte("relative\n"))
	f.Add([]byte("/a\x00b\n/c\x0bd\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "list")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var targets []*loadgen.Target
		if w, err := loadgen.ReadURLList(path); err == nil {
			targets = w.Targets()
		} else {
			checkOneLine(t, err)
		}
		if tr, err := loadgen.ReadTrace(path); err == nil {
			targets = append(targets, tr.Targets()...)
		} else {
			checkOneLine(t, err)
		}
		for _, tg := range targets {
			if !strings.HasPrefix(tg.Path, "/") || strings.IndexFunc(tg.Path, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
				t.Fatalf("accepted target path %q, want a path that fits a request line", tg.Path)
			}
		}
	})
}

func checkOneLine(t *testing.T, err error) {
	t.Helper()
	if !strings.HasPrefix(err.Error(), "loadgen: ") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got error %q, want one line starting with loadgen:", err)
	}
}
