package cgi_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/cgi"
	"flashbench/servers/internal/webtest"
)

// TestSpawnFailureReapsChild makes spawn fail once its child runs (its
// pipes cannot be made non-blocking): the child is killed and reaped, no
// zombie left, and no descriptor of the server's stays open.
func TestSpawnFailureReapsChild(t *testing.T) {
	cat, err := os.ReadFile("/bin/cat") // a program that waits on its standard input
	if err != nil {
		t.Skipf("no /bin/cat to run as the child: %v", err)
	}
	prog := filepath.Join(t.TempDir(), "spawnprobe") // a name of its own in /proc
	if err := os.WriteFile(prog, cat, 0o755); err != nil {
		t.Fatal(err)
	}
	orig := *cgi.SetNonblock
	t.Cleanup(func() { *cgi.SetNonblock = orig })
	*cgi.SetNonblock = func(int, bool) error { return unix.EINVAL }
	fail := func() {
		t.Helper()
		if err := cgi.Spawn(prog, 4096); !errors.Is(err, unix.EINVAL) {
			t.Fatalf("spawn with SetNonblock failing: got %v, want EINVAL", err)
		}
	}
	fail() // the first also opens what the runtime keeps open for good
	before := webtest.OpenFds(t)
	fail()
	for _, p := range childrenOf(t, os.Getpid()) {
		if p.comm == "spawnprobe" {
			t.Errorf("child %d left after the failed spawn, state %s; want none (Z is a zombie)", p.pid, p.state)
		}
	}
	if after := webtest.OpenFds(t); after != before {
		t.Errorf("open descriptors: got %d after the failed spawn, want the %d before", after, before)
	}
}
