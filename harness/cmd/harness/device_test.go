package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"flashbench/harness"
	"flashbench/harness/harnesstest"
)

// TestKilledHarnessDevice kills a harness outright (SIGKILL, no clean-up)
// while its server reads from a slowdisk device: the device must unmount
// itself and exit, and the next run must remove the mount point left.
func TestKilledHarnessDevice(t *testing.T) {
	harnesstest.NeedMemoryCgroup(t)
	harnesstest.NeedFUSE(t)
	subreap(t)
	t.Cleanup(func() { harness.SweepCgroups() }) // runs before subreap's clean-up
	out, sets := t.TempDir(), t.TempDir()
	cmd := exec.Command(os.Args[0], "run", "../../testdata/memory.toml", "--bin", binDir, "--out", out, "--filesets", sets, "--no-report")
	cmd.Env = append(os.Environ(), "FLASHBENCH_HARNESS_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	client := clientOf("trial=1.json")
	for deadline := time.Now().Add(time.Minute); len(deviceMounts(pid)) == 0 || !client(pid); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no trial on a device within a minute\nstderr:\n%s", stderr.String())
		}
	}
	mounted := deviceMounts(pid)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	// The device got SIGTERM as its parent died: it unmounts and exits.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		reap()
		if !anyMounted(t, mounted) && len(processesUnder(binDir)) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a minute after the harness was killed: mounted %v, processes of %s %v; want none",
				mounted, binDir, processesUnder(binDir))
		}
	}
	var stdout, errb bytes.Buffer
	if err := run([]string{"harness", "run", "../../testdata/quick.toml", "--bin", binDir, "--out", t.TempDir(),
		"--filesets", worldReadable(t), "--no-report", "--quick"}, &stdout, &errb); err != nil {
		t.Fatalf("next run: %v\n%s", err, errb.String())
	}
	if left := deviceMounts(pid); len(left) > 0 {
		t.Errorf("after the next run: got %v, want the killed harness's mount points removed", left)
	}
}

// anyMounted reports whether any of dirs is a mount point.
func anyMounted(t *testing.T, dirs []string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if bytes.Contains(b, []byte(" "+d+" ")) {
			return true
		}
	}
	return false
}

// reap waits for the test process's children that have exited: the
// killed harness's orphans, which it adopted as their subreaper.
func reap() {
	for _, pid := range children() {
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	}
}

// worldReadable returns a temporary directory other users can traverse,
// for file sets the real servers would read.
func worldReadable(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
