package harness_test

import (
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
)

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

// processesFrom returns the PIDs of live processes whose executable lies
// under dir: what a run with binaries in dir left behind.
func processesFrom(t *testing.T, dir string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && strings.HasPrefix(exe, dir+"/") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// worldReadableTempDir returns a temporary directory other users (the
// real servers' www-data workers) can traverse.
func worldReadableTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// waitProcess waits until a live process runs dir's program name with an
// argument containing arg, and returns its PID (0 after a minute).
func waitProcess(dir, name, arg string) int {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
			if err != nil || exe != filepath.Join(dir, name) {
				continue
			}
			cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if strings.Contains(string(cmdline), arg) {
				return pid
			}
		}
	}
	return 0
}

// newLocal returns the local topology. It skips the test on a machine
// without taskset (util-linux), the one thing harness.NewLocal needs.
func newLocal(t *testing.T) *harness.Local {
	t.Helper()
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("taskset not installed (apt-get install util-linux)")
	}
	topo, err := harness.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// needMemoryCgroup skips the test unless this machine lets the harness
// make memory cgroups: root, and a cgroup2 file system at
// harness.CgroupRoot or a v1 memory hierarchy at its memory/, mounted
// read-write. It reads the mount table, not the code under test, and then
// checks that harness.CgroupVersion finds the hierarchy it saw.
func needMemoryCgroup(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a memory cgroup")
	}
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	// The last mount on a point is the one on top: what a path reaches.
	type mount struct{ fstype, opts, superOpts string }
	top := map[string]mount{}
	for _, line := range strings.Split(string(b), "\n") {
		pre, post, _ := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) >= 6 && len(g) >= 3 {
			top[f[4]] = mount{fstype: g[0], opts: f[5], superOpts: g[2]}
		}
	}
	v1Dir := filepath.Join(harness.CgroupRoot, "memory")
	want, dir := 0, ""
	switch m := top[v1Dir]; {
	case top[harness.CgroupRoot].fstype == "cgroup2":
		want, dir = 2, harness.CgroupRoot
	case m.fstype == "cgroup" && slices.Contains(strings.Split(m.superOpts, ","), "memory"):
		want, dir = 1, v1Dir
	default:
		t.Skipf("no memory cgroup: neither a cgroup2 file system at %s nor a v1 memory hierarchy at %s", harness.CgroupRoot, v1Dir)
	}
	if slices.Contains(strings.Split(top[dir].opts, ","), "ro") {
		t.Skipf("%s is mounted read-only: no cgroup can be made", dir)
	}
	if got, err := harness.CgroupVersion(); err != nil || got != want {
		t.Fatalf("CgroupVersion: got %d, %v; want %d (the memory controller is mounted at %s)", got, err, want, dir)
	}
}

// needFUSE skips the test unless this machine can mount the slowdisk
// device: root, /dev/fuse, and a kernel that knows the fuse file system.
func needFUSE(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a FUSE file system")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("no FUSE: %v", err)
	}
	b, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\tfuse\n") {
		t.Skip("no FUSE: the kernel lists no fuse file system in /proc/filesystems")
	}
}
