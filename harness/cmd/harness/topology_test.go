package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"flashbench/harness"
)

// TestInterruptNetns interrupts a run on the netns topology and checks
// that its namespaces went with it.
func TestInterruptNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	out, sets := t.TempDir(), t.TempDir()
	cmd := exec.Command(os.Args[0], "run", "../../testdata/slow.toml", "--topology", "netns", "--bin", binDir,
		"--out", out, "--filesets", sets, "--no-report")
	cmd.Env = append(os.Environ(), "FLASHBENCH_HARNESS_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	prefix := "fb-" + strconv.Itoa(cmd.Process.Pid) + "-"
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		harness.SweepNetns()
	})
	dir := waitForPoints(t, filepath.Join(out, "slow"), 1)
	if got := netnsWithPrefix(t, prefix); len(got) != 2 {
		t.Errorf("during the run: got namespaces %v, want two named %s*", got, prefix)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("exit: got %v, want status 130\n%s", err, stderr.String())
	}
	if left := netnsWithPrefix(t, prefix); len(left) > 0 {
		t.Errorf("after the interrupt: got namespaces %v, want none", left)
	}
	if left := processesUnder(binDir); len(left) > 0 {
		t.Errorf("got processes %v left behind, want none", left)
	}
	ix, err := harness.ReadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !ix.Interrupted || ix.Topology != "netns" {
		t.Errorf("run.json: got interrupted %v, topology %q; want true, netns", ix.Interrupted, ix.Topology)
	}
}

func netnsWithPrefix(t *testing.T, prefix string) []string {
	t.Helper()
	b, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatalf("ip netns list: %v", err)
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], prefix) {
			names = append(names, f[0])
		}
	}
	return names
}
