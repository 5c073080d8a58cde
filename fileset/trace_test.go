package fileset_test

import (
	"slices"
	"strings"
	"testing"

	"flashbench/fileset"
)

// FuzzReadTrace feeds arbitrary text to the trace reader: it returns paths
// or a one-line error, never panics, and the paths it returns read back
// unchanged after WritePaths.
func FuzzReadTrace(f *testing.F) {
	f.Add([]byte("# zipf 1.0\n/dir00000/class1_4\n\n/fixed/f000001\r\n"))
	f.Add([]byte("/a b\n"))
	f.Add([]byte("relative\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		paths, err := fileset.ReadTrace(strings.NewReader(string(data)))
		checkPaths(t, paths, err)
	})
}

// checkPaths asserts what every reader of paths promises: nil paths and a
// one-line error, or paths that survive the trace format unchanged.
func checkPaths(t *testing.T, paths []string, err error) {
	t.Helper()
	if err != nil {
		if paths != nil || !strings.HasPrefix(err.Error(), "fileset: ") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("got %q, %q; want nil paths and a one-line error", paths, err)
		}
		return
	}
	var b strings.Builder
	if err := fileset.WritePaths(&b, "fuzz", paths); err != nil {
		t.Fatal(err)
	}
	back, err := fileset.ReadTrace(strings.NewReader(b.String()))
	if err != nil || !slices.Equal(back, paths) {
		t.Fatalf("trace round trip of %q: got %q, %v", paths, back, err)
	}
}
