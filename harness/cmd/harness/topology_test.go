package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"flashbench/harness"
	"flashbench/harness/topology"
)

// TestInterruptNetns interrupts runs on the netns topology, while it sets
// up its namespaces and after a point, and checks that the namespaces
// went with them.
func TestInterruptNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	t.Cleanup(func() { topology.SweepNetns() })
	tests := []struct {
		name   string
		moment func(t *testing.T, out string) func(pid int) bool
		run    bool // a run directory was made
	}{
		{"namespace set-up", func(t *testing.T, _ string) func(int) bool {
			return func(pid int) bool { return len(netnsWithPrefix(t, "fb-"+strconv.Itoa(pid)+"-")) > 0 }
		}, false},
		{"after a point", func(t *testing.T, out string) func(int) bool {
			return func(pid int) bool {
				if pointsIn(filepath.Join(out, "slow")) == 0 {
					return false
				}
				if got := netnsWithPrefix(t, "fb-"+strconv.Itoa(pid)+"-"); len(got) != 2 {
					t.Errorf("during the run: got namespaces %v, want two", got)
				}
				return true
			}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, sets := t.TempDir(), t.TempDir()
			got := interruptRun(t, []string{"run", "../../testdata/slow.toml", "--topology", "netns", "--bin", binDir,
				"--out", out, "--filesets", sets, "--no-report"}, tt.moment(t, out))
			if !tt.run {
				if dirs, _ := filepath.Glob(filepath.Join(out, "*", "*")); len(dirs) != 0 || !strings.Contains(got.stderr, "interrupted before the run started") {
					t.Errorf("got run directories %v and stderr\n%s\nwant none, interrupted before the run started", dirs, got.stderr)
				}
				return
			}
			checkInterruptedRun(t, filepath.Join(out, "slow"), got)
			dirs, _ := filepath.Glob(filepath.Join(out, "slow", "*"))
			if ix, err := harness.ReadIndex(dirs[0]); err != nil || ix.Topology != "netns" {
				t.Errorf("run.json: got %+v, %v; want topology netns", ix, err)
			}
		})
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
