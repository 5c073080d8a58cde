package provenance

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
)

func TestCountCPUList(t *testing.T) {
	tests := []struct {
		list string
		want int
		bad  bool
	}{
		{"0", 1, false},
		{"0-1", 2, false},
		{"0-3,8,10-11", 7, false},
		{"3-1", 0, true},
		{"x", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := countCPUList(tt.list)
		if got != tt.want || (err != nil) != tt.bad {
			t.Errorf("countCPUList(%q): got %d, %v; want %d, error %t", tt.list, got, err, tt.want, tt.bad)
		}
	}
}

// TestOnlineCPUsPinned runs this test binary pinned to CPU 0: there
// runtime.NumCPU says 1, and OnlineCPUs must still count the machine's
// CPUs, as the load average does.
func TestOnlineCPUsPinned(t *testing.T) {
	if os.Getenv("FLASHBENCH_CPUS_HELPER") == "1" {
		fmt.Println(OnlineCPUs(), runtime.NumCPU())
		return
	}
	if runtime.NumCPU() < 2 {
		t.Skip("one CPU: pinning changes nothing")
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("taskset not installed")
	}
	cmd := exec.Command("taskset", "-c", "0", os.Args[0], "-test.run=^TestOnlineCPUsPinned$")
	cmd.Env = append(os.Environ(), "FLASHBENCH_CPUS_HELPER=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pinned helper: %v (%s)", err, out)
	}
	var online, numCPU int
	if _, err := fmt.Sscan(string(out), &online, &numCPU); err != nil {
		t.Fatalf("pinned helper printed %q: %v", out, err)
	}
	if numCPU != 1 || online != OnlineCPUs() || online < 2 {
		t.Errorf("pinned to CPU 0: got OnlineCPUs %d, runtime.NumCPU %d; want %d (the machine's), 1", online, numCPU, OnlineCPUs())
	}
}
