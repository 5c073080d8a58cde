package cgi

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
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
	orig := setNonblock
	t.Cleanup(func() { setNonblock = orig })
	setNonblock = func(int, bool) error { return unix.EINVAL }
	fail := func() {
		t.Helper()
		if p, err := spawn(prog, t.TempDir(), 4096); p != nil || !errors.Is(err, unix.EINVAL) {
			t.Fatalf("spawn with SetNonblock failing: got %v, %v; want no process and EINVAL", p, err)
		}
	}
	fail() // the first also opens what the runtime keeps open for good
	before := openFds(t)
	fail()
	if left := children(t, "spawnprobe"); len(left) > 0 {
		t.Errorf("children left after the failed spawn: %v, want none (a zombie is state Z)", left)
	}
	if after := openFds(t); after != before {
		t.Errorf("open descriptors: got %d after the failed spawn, want the %d before", after, before)
	}
}

// children returns the processes whose parent is this one and whose
// command name is comm, with their state.
func children(t *testing.T, comm string) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces, not ")".
		i, j := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if i < 0 || j < i {
			continue
		}
		var state string
		var ppid int
		if _, err := fmt.Sscan(string(b[j+1:]), &state, &ppid); err != nil {
			continue
		}
		if ppid == os.Getpid() && string(b[i+1:j]) == comm {
			out = append(out, e.Name()+" "+state)
		}
	}
	return out
}

// openFds counts this process's open descriptors.
func openFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents) - 1 // the one ReadDir itself had open
}
