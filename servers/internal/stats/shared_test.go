package stats_test

import (
	"os"
	"os/exec"
	"testing"

	"flashbench/servers/internal/stats"
)

// envSharedChild makes the test binary the worker of TestShared.
const envSharedChild = "STATS_TEST_SHARED_CHILD"

// TestSharedChild is not a test: it is the worker TestShared re-executes,
// which counts 3 connections and 1 failed accept in the counters at fd 3.
func TestSharedChild(t *testing.T) {
	if os.Getenv(envSharedChild) == "" {
		t.Skip("runs only as the re-executed worker of TestShared")
	}
	sh, err := stats.MapShared(3)
	if err != nil {
		t.Fatal(err)
	}
	sh.Connections.Add(3)
	sh.AcceptErrors.Add(1)
}

// TestShared has another process count in shared counters: the snapshot
// of the Counters they are added to sums its counts and their own.
func TestShared(t *testing.T) {
	sh, err := stats.NewShared()
	if err != nil {
		t.Fatal(err)
	}
	c := stats.New()
	c.Connections.Add(2)
	c.AddShared(sh)
	cmd := exec.Command(os.Args[0], "-test.run=^TestSharedChild$")
	cmd.Env = append(os.Environ(), envSharedChild+"=1")
	cmd.ExtraFiles = []*os.File{sh.File()}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("worker: %v\n%s", err, out)
	}
	s := c.Snapshot()
	if s.Connections != 5 || s.Errors.Accept != 1 {
		t.Errorf("snapshot after a worker counted 3 connections and 1 failed accept: got connections %d, errors.accept %d, want 5, 1",
			s.Connections, s.Errors.Accept)
	}
}
