package harness_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"flashbench/harness"
	"flashbench/harness/harnesstest"
	"flashbench/harness/topology"
)

// TestMemoryCgroup starts a server under a 64 MiB memory cgroup and checks
// the bound and the membership, then that Remove leaves nothing.
func TestMemoryCgroup(t *testing.T) {
	harnesstest.NeedMemoryCgroup(t)
	topo := harnesstest.NewLocal(t)
	cg, err := harness.NewMemoryCgroup("test-"+strconv.Itoa(os.Getpid()), 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cg.Remove() })
	b, err := os.ReadFile(cg.LimitFile())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != strconv.Itoa(64<<20) {
		t.Errorf("%s: got %s, want %d", cg.LimitFile(), got, 64<<20)
	}
	p, err := topo.StartServer(topology.Command{Path: filepath.Join(binDir, "webserver"),
		Args: []string{"--arch", "null", "--listen", "127.0.0.1:0"}, CgroupProcs: []string{cg.ProcsFile()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill(); <-p.Done() })
	var procs []int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if procs, err = cg.Procs(); err == nil && slices.Contains(procs, p.PID()) {
			break
		}
	}
	if !slices.Contains(procs, p.PID()) {
		t.Fatalf("cgroup.procs: got %v, want the server's PID %d", procs, p.PID())
	}
	// The PID joins first (a shell), then execs taskset, which execs the
	// server: the same PID must become the webserver.
	var exe string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if exe, _ = os.Readlink(filepath.Join("/proc", strconv.Itoa(p.PID()), "exe")); filepath.Base(exe) == "webserver" {
			break
		}
	}
	if filepath.Base(exe) != "webserver" {
		t.Errorf("the cgroup member runs %q, want the webserver itself (same PID)", exe)
	}
	if err := cg.Remove(); err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	if _, err := os.Stat(cg.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Remove: stat %s: got %v, want not exist", cg.Dir, err)
	}
	if err := syscall.Kill(p.PID(), 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("server after Remove: got %v, want ESRCH", err)
	}
}

// TestSweepCgroups checks that a cgroup left by a harness process that no
// longer exists is removed, and one of a live process is kept.
func TestSweepCgroups(t *testing.T) {
	harnesstest.NeedMemoryCgroup(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	var cgs []*harness.Cgroup
	for _, name := range []string{strconv.Itoa(dead.Process.Pid) + "-0", strconv.Itoa(os.Getpid()) + "-sweeptest"} {
		cg, err := harness.NewMemoryCgroup(name, 64<<20)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cg.Remove() })
		cgs = append(cgs, cg)
	}
	removed, err := harness.SweepCgroups()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(removed, cgs[0].Dir) || slices.Contains(removed, cgs[1].Dir) {
		t.Errorf("got removed %v, want %s and not %s", removed, cgs[0].Dir, cgs[1].Dir)
	}
	if _, err := os.Stat(cgs[0].Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat %s: got %v, want not exist", cgs[0].Dir, err)
	}
	if _, err := os.Stat(cgs[1].Dir); err != nil {
		t.Errorf("stat %s: got %v, want it kept", cgs[1].Dir, err)
	}
}
