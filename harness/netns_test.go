package harness_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"flashbench/harness"
	"flashbench/results"
)

// needRoot skips a test that creates namespaces when not root.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip not installed (iproute2)")
	}
}

// namespaces returns the names ip netns list shows.
func namespaces(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatalf("ip netns list: %v", err)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

// ours returns the names among list that a harness of this process made.
func ours(list []string) []string {
	var out []string
	prefix := "fb-" + strconv.Itoa(os.Getpid()) + "-"
	for _, n := range list {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

func TestNetnsQuick(t *testing.T) {
	needRoot(t)
	topo, err := harness.NewNetns("100mbit")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	if got := ours(namespaces(t)); len(got) != 2 {
		t.Errorf("got namespaces %v, want the server's and the client's", got)
	}
	qdisc, err := exec.Command("ip", "netns", "exec", topo.ClientNS, "tc", "qdisc", "show").Output()
	if err != nil || !strings.Contains(string(qdisc), "tbf") || !strings.Contains(string(qdisc), "100Mbit") {
		t.Errorf("client qdiscs: got %q, %v; want a 100Mbit tbf", qdisc, err)
	}
	var log bytes.Buffer
	out, err := harness.Execute(context.Background(), harness.Options{Experiment: quickExperiment(t), Topology: topo,
		BinDir: binDir, OutDir: t.TempDir(), FileSetDir: worldReadableTempDir(t), Quick: true, Log: &log})
	if err != nil {
		t.Fatalf("Execute: %v\n%s", err, log.String())
	}
	if err := topo.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if left := ours(namespaces(t)); len(left) > 0 {
		t.Errorf("got namespaces %v left after Close, want none", left)
	}
	if left := processesFrom(t, binDir); len(left) > 0 {
		t.Errorf("got processes %v left behind, want none", left)
	}
	ix, err := harness.ReadIndex(out.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Topology != "netns" || ix.Interrupted {
		t.Errorf("run.json: got topology %q, interrupted %v; want netns, false", ix.Topology, ix.Interrupted)
	}
	ok := 0
	for _, p := range ix.Points {
		if p.Status != harness.StatusOK {
			continue
		}
		ok++
		r, err := results.Read(filepath.Join(out.Dir, p.Result))
		if err != nil {
			t.Fatal(err)
		}
		if r.Provenance.Topology != "netns" || len(r.Config.Targets) == 0 || !strings.Contains(r.Config.Targets[0], "198.18.0.1:") ||
			r.RequestsTotal == 0 {
			t.Errorf("point %s: got topology %q, targets %v, %d requests; want netns, 198.18.0.1, > 0",
				p.ID, r.Provenance.Topology, r.Config.Targets, r.RequestsTotal)
		}
	}
	if ok != 4 {
		t.Errorf("got %d points ok, want 4 (sped and null at two sizes)\n%s", ok, log.String())
	}
}

func TestNetnsRejectsBadRate(t *testing.T) {
	needRoot(t)
	for _, rate := range []string{"fast", "100 mbit", "1mbit; reboot"} {
		if topo, err := harness.NewNetns(rate); err == nil {
			topo.Close()
			t.Errorf("NewNetns(%q): got no error, want one", rate)
		}
	}
	if left := ours(namespaces(t)); len(left) > 0 {
		t.Errorf("got namespaces %v, want none", left)
	}
}

// TestSweepNetns checks that a namespace left by a harness process that
// no longer exists is removed, and one of a live process is kept.
func TestSweepNetns(t *testing.T) {
	needRoot(t)
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
	removed, err := harness.SweepNetns()
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0] != gone {
		t.Errorf("got removed %v, want [%s]", removed, gone)
	}
	list := namespaces(t)
	if contains(list, gone) || !contains(list, live) {
		t.Errorf("got namespaces %v, want %s gone and %s kept", list, gone, live)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
