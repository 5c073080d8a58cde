package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// interrupted is what a harness run left after a Ctrl-C.
type interrupted struct {
	stdout, stderr string
	// tree is the harness's process tree at the moment of the Ctrl-C.
	tree map[int]string
}

// subreap makes the test process the subreaper of what it starts, so that
// an orphan of the harness becomes its child, and kills and reaps any such
// child left when the test ends.
func subreap(t *testing.T) {
	t.Helper()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatalf("prctl: %v", err)
	}
	t.Cleanup(func() {
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
		for _, pid := range children() {
			syscall.Kill(pid, syscall.SIGKILL)
			var ws syscall.WaitStatus
			syscall.Wait4(pid, &ws, 0, nil)
		}
	})
}

// interruptRun runs `harness args...` in a process group of its own,
// waits until moment(pid) says the moment has come, and sends SIGINT to
// the group, as Ctrl-C in a terminal does. It checks that the harness
// exits with status 130 and leaves nothing behind: no process of its
// tree, no orphan (the test process is made their subreaper, so an orphan
// of the harness becomes its child), no processes of binDir, no network
// namespace, cgroup or slowdisk mount that were not there before.
func interruptRun(t *testing.T, args []string, moment func(pid int) bool) *interrupted {
	t.Helper()
	subreap(t)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "FLASHBENCH_HARNESS_MAIN=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL); <-exited })
	got := &interrupted{}
	for deadline := time.Now().Add(time.Minute); !moment(pid); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the moment never came\nstderr:\n%s", stderr.String())
		}
	}
	got.tree = tree(pid)
	if err := syscall.Kill(-pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-exited:
		exited <- err // for the clean-up
	case <-time.After(time.Minute):
		t.Fatalf("harness still running a minute after SIGINT\nstderr:\n%s", stderr.String())
	}
	got.stdout, got.stderr = stdout.String(), stderr.String()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("exit: got %v, want status 130\nstderr:\n%s", err, got.stderr)
	}
	checkNothingLeft(t, got.tree)
	return got
}

// checkNothingLeft checks that no process of tree lives on, that the test
// process has no orphan to adopt, and that no namespace, cgroup or slowdisk
// mount or mount point that a process of tree made (their names carry its
// pid: fb-PID-*, flashbench-PID-*, flashbench-slowdisk-PID-*) remains. Other tests running at the same time make their own.
// Orphans that have already exited (killed with their process group after
// their parent) are reaped first: they only waited for their subreaper.
func checkNothingLeft(t *testing.T, tree map[int]string) {
	t.Helper()
	for _, pid := range children() {
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	}
	for p, start := range tree {
		if startTime(p) == start {
			t.Errorf("process %d (%s) of the harness's tree still runs", p, comm(p))
		}
	}
	if left := children(); len(left) > 0 {
		t.Errorf("got orphans %v of the harness (commands %v), want none", left, comms(left))
	}
	if left := processesUnder(binDir); len(left) > 0 {
		t.Errorf("got processes %v of %s left behind, want none", left, binDir)
	}
	for _, ns := range netnsWithPrefix(t, "fb-") {
		if madeBy(tree, strings.TrimPrefix(ns, "fb-")) {
			t.Errorf("namespace %s left behind", ns)
		}
	}
	for _, cg := range cgroupDirs() {
		if madeBy(tree, strings.TrimPrefix(filepath.Base(cg), "flashbench-")) {
			t.Errorf("cgroup %s left behind", cg)
		}
	}
	for pid := range tree {
		if left := deviceMounts(pid); len(left) > 0 {
			t.Errorf("slowdisk mounts or mount points %v left behind", left)
		}
	}
}

// deviceMounts returns the slowdisk mounts and mount points the harness
// pid made: flashbench-slowdisk-PID-* in the temporary directory, or
// mounted anywhere.
func deviceMounts(pid int) []string {
	prefix := fmt.Sprintf("flashbench-slowdisk-%d-", pid)
	out, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(filepath.Base(f[4]), prefix) {
			out = append(out, f[4])
		}
	}
	return out
}

// madeBy reports whether rest, a name after its prefix ("PID-..."), names a
// process of tree.
func madeBy(tree map[int]string, rest string) bool {
	id, _, _ := strings.Cut(rest, "-")
	pid, err := strconv.Atoi(id)
	_, in := tree[pid]
	return err == nil && in
}

// stats returns every live process's parent and start time (as written in
// /proc/PID/stat: with the PID, it names one process over time).
func stats() map[int][2]string {
	ents, _ := os.ReadDir("/proc")
	out := map[int][2]string{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 20 {
			continue
		}
		out[pid] = [2]string{f[1], f[19]} // fields 4 (ppid) and 22 (starttime)
	}
	return out
}

// tree returns root and its descendants with their start times.
func tree(root int) map[int]string {
	all := stats()
	out := map[int]string{root: all[root][1]}
	for grew := true; grew; {
		grew = false
		for pid, s := range all {
			ppid, _ := strconv.Atoi(s[0])
			if _, in := out[ppid]; in {
				if _, seen := out[pid]; !seen {
					out[pid], grew = s[1], true
				}
			}
		}
	}
	return out
}

// startTime returns pid's start time, "" when it does not exist.
func startTime(pid int) string { return stats()[pid][1] }

// children returns the test process's children: with it a subreaper and
// the harness reaped, the harness's orphans.
func children() []int {
	me := strconv.Itoa(os.Getpid())
	var out []int
	for pid, s := range stats() {
		if s[0] == me {
			out = append(out, pid)
		}
	}
	return out
}

func comm(pid int) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	return strings.TrimSpace(string(b))
}

func comms(pids []int) []string {
	var out []string
	for _, p := range pids {
		out = append(out, comm(p))
	}
	return out
}

// cgroupDirs returns the cgroups named like the harness's, in every
// hierarchy they may be made in.
func cgroupDirs() []string {
	var out []string
	for _, pattern := range []string{"/sys/fs/cgroup/flashbench-*", "/sys/fs/cgroup/*/flashbench-*"} {
		m, _ := filepath.Glob(pattern)
		out = append(out, m...)
	}
	return out
}

// clientOf returns a moment: a load generator of the harness pid runs
// with an argument containing arg (its output file names the point).
func clientOf(arg string) func(pid int) bool {
	return func(pid int) bool {
		for p := range tree(pid) {
			exe, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(p), "exe"))
			if err != nil || exe != filepath.Join(binDir, "loadgen") {
				continue
			}
			b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p), "cmdline"))
			if strings.Contains(string(b), arg) {
				return true
			}
		}
		return false
	}
}
