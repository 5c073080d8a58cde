package topology_test

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"

	"flashbench/harness/topology"
	"flashbench/harness/topology/topologytest"
)

func TestNetnsRejectsBadRate(t *testing.T) {
	topologytest.NeedNetns(t)
	for _, rate := range []string{"fast", "100 mbit", "1mbit; reboot"} {
		if topo, err := topology.NewNetns(rate); err == nil {
			topo.Close()
			t.Errorf("NewNetns(%q): got no error, want one", rate)
		}
	}
	if left := topologytest.OwnNamespaces(t); len(left) > 0 {
		t.Errorf("got namespaces %v, want none", left)
	}
}

// TestSweepNetns checks that a namespace left by a harness process that
// no longer exists is removed, and one of a live process is kept.
func TestSweepNetns(t *testing.T) {
	topologytest.NeedNetns(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	gone := "fb-" + strconv.Itoa(dead.Process.Pid) + "-srv"
	live := "fb-" + strconv.Itoa(os.Getpid()) + "-sweeptest"
	for _, n := range []string{gone, live} {
		if out, err := exec.Command("ip", "netns", "add", n).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v: %s", n, err, out)
		}
		t.Cleanup(func() { exec.Command("ip", "netns", "del", n).Run() })
	}
	removed, err := topology.SweepNetns()
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != gone {
		t.Errorf("got removed %v, want [%s]", removed, gone)
	}
	list := topologytest.Namespaces(t)
	if slices.Contains(list, gone) || !slices.Contains(list, live) {
		t.Errorf("got namespaces %v, want %s gone and %s kept", list, gone, live)
	}
}
