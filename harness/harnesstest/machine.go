// Package harnesstest holds what the harness's tests share: the checks
// that skip a test on a proven limit of the machine (no root, no cgroup
// hierarchy, no FUSE, no taskset), made from the machine's own tables
// before the code under test runs, so that an error from the harness
// itself always fails the test.
package harnesstest

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"flashbench/harness"
	"flashbench/harness/topology"
)

// NewLocal returns the local topology. It skips the test on a machine
// without taskset (util-linux), the one thing topology.NewLocal needs.
func NewLocal(t testing.TB) *topology.Local {
	t.Helper()
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("taskset not installed (apt-get install util-linux)")
	}
	topo, err := topology.NewLocal()
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// NeedMemoryCgroup skips the test unless this machine lets the harness
// make memory cgroups: root, and a cgroup2 file system at
// harness.CgroupRoot or a v1 memory hierarchy at its memory/, mounted
// read-write. It reads the mount table, not the code under test, and then
// checks that harness.CgroupVersion finds the hierarchy it saw.
func NeedMemoryCgroup(t testing.TB) {
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

// NeedFUSE skips the test unless this machine can mount the slowdisk
// device: root, /dev/fuse, and a kernel that knows the fuse file system.
func NeedFUSE(t testing.TB) {
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
