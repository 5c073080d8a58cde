package topology_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"flashbench/harness/topology"
)

func TestTreeUsage(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "FLASHBENCH_HARNESS_HELPER=tree")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The children die with the tree: kill them first, by their PIDs.
		if u, err := topology.TreeUsage(cmd.Process.Pid); err == nil && u.Procs > 0 {
			killTree(cmd.Process.Pid)
		}
		cmd.Process.Kill()
		cmd.Wait()
	})
	if !bufio.NewScanner(out).Scan() {
		t.Fatal("helper did not start")
	}
	var u topology.Usage
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if u, err = topology.TreeUsage(cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
		if u.User > 0 && u.Procs == 3 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if u.Procs != 3 {
		t.Errorf("got %d processes, want 3 (helper and two children)", u.Procs)
	}
	if u.User <= 0 {
		t.Errorf("got user CPU %v, want > 0", u.User)
	}
	if u.HWMBytes < 3<<20 {
		t.Errorf("got summed VmHWM %d bytes, want at least 3 MiB for three Go processes", u.HWMBytes)
	}
	if _, err := topology.TreeUsage(1 << 30); err == nil {
		t.Error("TreeUsage(no such pid): got nil, want an error")
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name, line string
		ppid       int
		ut, st     int64
		ok         bool
	}{
		{"plain", "42 (webserver) S 7 42 42 0 -1 4194560 100 0 0 0 11 12 13 14 20 0 1 0 5 100 200", 7, 11, 12, true},
		{"paren in name", "42 (we) ird) R 9 42 42 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 5 100 200", 9, 5, 6, true},
		{"short", "42 (x) S 1 2", 0, 0, 0, false},
		{"no paren", "42 x S 1", 0, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ppid, ut, st, _, _, ok := topology.StatFields([]byte(tt.line))
			if ok != tt.ok || ppid != tt.ppid || ut != tt.ut || st != tt.st {
				t.Errorf("got ppid %d utime %d stime %d ok %v, want %d %d %d %v", ppid, ut, st, ok, tt.ppid, tt.ut, tt.st, tt.ok)
			}
		})
	}
}

// killTree kills pid's descendants, then pid.
func killTree(pid int) {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "task", strconv.Itoa(pid), "children"))
	for _, f := range strings.Fields(string(b)) {
		if c, err := strconv.Atoi(f); err == nil {
			killTree(c)
		}
	}
	syscall.Kill(pid, syscall.SIGKILL)
}
