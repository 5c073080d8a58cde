package harness

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// CPUPeriod is the period of a CPU budget's quota. A throttled server
// waits for the next period: 10 ms keeps those stalls short (the kernel's
// default, 100 ms, would add up to 70 ms to a request under a 0.3 budget).
const CPUPeriod = 10 * time.Millisecond

// MinServerCPU is the smallest budget: the kernel refuses a quota below
// 1 ms, a tenth of CPUPeriod.
const MinServerCPU = 0.1

// CPUCgroup is a cgroup the harness made to hold a server's whole process
// tree (workers, helpers, forked children, CGI programs) to a CPU budget
// and to account for the CPU time they use, including that of processes
// that came and went.
type CPUCgroup struct {
	// Version is 1 or 2.
	Version int
	// Cores is the quota in cores (0.3: 3 ms of every 10 ms period); 1
	// sets none: the cgroup then only accounts.
	Cores float64
	// Dir holds the quota: v2 the cgroup, v1 its directory in the cpu
	// hierarchy. AcctDir holds the usage: Dir on v2, the cpuacct
	// hierarchy's directory on v1 (Dir when cpu and cpuacct are mounted
	// together).
	Dir, AcctDir string
}

// CPUAccount is a CPU cgroup's counters at one moment.
type CPUAccount struct {
	// Usage is the CPU time the cgroup's processes used, live and gone.
	Usage time.Duration
	// Periods counts the enforcement periods in which the cgroup ran,
	// Throttled those that ended with it throttled, ThrottledTime the
	// time it spent throttled.
	Periods, Throttled int64
	ThrottledTime      time.Duration
}

// cpuHierarchies are where a v1 CPU controller may be: the directory
// names under CgroupRoot, the co-mounted name last.
var (
	cpuHierarchies     = []string{"cpu", "cpu,cpuacct", "cpuacct,cpu"}
	cpuacctHierarchies = []string{"cpuacct", "cpu,cpuacct", "cpuacct,cpu"}
)

// cpuDirs finds the parent directories a CPU cgroup is made in: on v2
// CgroupRoot twice; on v1 the cpu and the cpuacct hierarchies (the same
// directory when they are mounted together). The error says in one line
// why this machine has no writable CPU controller.
func cpuDirs() (version int, quota, acct string, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(CgroupRoot, &st); err != nil {
		return 0, "", "", fmt.Errorf("cgroup: no CPU controller: %w", os.NewSyscallError("statfs", err))
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		b, err := os.ReadFile(filepath.Join(CgroupRoot, "cgroup.controllers"))
		if err != nil || !slices.Contains(strings.Fields(string(b)), "cpu") {
			return 0, "", "", fmt.Errorf("cgroup: no CPU controller in %s (cgroup v2 without cpu in cgroup.controllers)", CgroupRoot)
		}
		return 2, CgroupRoot, CgroupRoot, writable(CgroupRoot)
	}
	quota = v1Hierarchy(cpuHierarchies, "cpu.cfs_quota_us")
	acct = v1Hierarchy(cpuacctHierarchies, "cpuacct.usage")
	if quota == "" || acct == "" {
		return 0, "", "", fmt.Errorf("cgroup: no CPU controller under %s (neither cgroup v2 nor v1 cpu and cpuacct hierarchies)", CgroupRoot)
	}
	if err := writable(quota); err != nil {
		return 0, "", "", err
	}
	return 1, quota, acct, writable(acct)
}

// v1Hierarchy returns the first of names under CgroupRoot that is a cgroup
// v1 mount holding file, with symbolic links resolved, or "".
func v1Hierarchy(names []string, file string) string {
	for _, n := range names {
		dir, err := filepath.EvalSymlinks(filepath.Join(CgroupRoot, n))
		if err != nil {
			continue
		}
		var st unix.Statfs_t
		if unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP_SUPER_MAGIC && fileExists(filepath.Join(dir, file)) {
			return dir
		}
	}
	return ""
}

// writable says why the harness cannot make cgroups under dir, or nil.
func writable(dir string) error {
	if err := unix.Access(dir, unix.W_OK); err != nil {
		return fmt.Errorf("cgroup: CPU controller at %s not writable: %w", dir, os.NewSyscallError("access", err))
	}
	return nil
}

// CPUControllerVersion reports which cgroup version holds a CPU controller
// the harness can make cgroups in, or an error saying in one line why
// there is none (no controller, a read-only mount, not root).
func CPUControllerVersion() (int, error) {
	v, _, _, err := cpuDirs()
	return v, err
}

// NewCPUCgroup creates the cgroup flashbench-<name> with a quota of cores
// (MinServerCPU..1) per CPUPeriod; 1 sets no quota. On cgroup v2 a memory
// cgroup of the same name (NewMemoryCgroup) is the same cgroup: a process
// can only be in one there.
func NewCPUCgroup(name string, cores float64) (*CPUCgroup, error) {
	if !(cores >= MinServerCPU && cores <= 1) {
		return nil, fmt.Errorf("cgroup: CPU budget %v cores, want %v..1", cores, MinServerCPU)
	}
	v, quotaParent, acctParent, err := cpuDirs()
	if err != nil {
		return nil, err
	}
	c := &CPUCgroup{Version: v, Cores: cores, Dir: filepath.Join(quotaParent, "flashbench-"+name),
		AcctDir: filepath.Join(acctParent, "flashbench-"+name)}
	if v == 2 {
		if err := enableController("cpu"); err != nil {
			return nil, err
		}
	}
	for _, d := range c.dirs() {
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			c.Remove()
			return nil, fmt.Errorf("cgroup: %w", err)
		}
	}
	if err := c.setQuota(); err != nil {
		c.Remove()
		return nil, err
	}
	return c, nil
}

// setQuota writes the quota: the period first, as v1 checks the quota
// against it. A quota also gets the highest weight: the quota caps the
// server, and the weight gives it its budget even when other tasks want
// its CPU (a shared machine), so that the budget is what it gets.
func (c *CPUCgroup) setQuota() error {
	period := CPUPeriod.Microseconds()
	quota := "max"
	if c.Cores < 1 {
		quota = strconv.FormatInt(int64(math.Round(c.Cores*float64(period))), 10)
	}
	if c.Version == 2 {
		if err := writeFile(filepath.Join(c.Dir, "cpu.max"), quota+" "+strconv.FormatInt(period, 10)); err != nil || quota == "max" {
			return err
		}
		return writeFile(filepath.Join(c.Dir, "cpu.weight"), "10000")
	}
	if quota == "max" {
		quota = "-1"
	}
	if err := writeFile(filepath.Join(c.Dir, "cpu.cfs_period_us"), strconv.FormatInt(period, 10)); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(c.Dir, "cpu.cfs_quota_us"), quota); err != nil || quota == "-1" {
		return err
	}
	return writeFile(filepath.Join(c.Dir, "cpu.shares"), "262144")
}

// dirs are the cgroup's directories, each once.
func (c *CPUCgroup) dirs() []string {
	if c.AcctDir == c.Dir {
		return []string{c.Dir}
	}
	return []string{c.Dir, c.AcctDir}
}

// ProcsFiles are the files a process writes its PID to in order to join:
// one per hierarchy.
func (c *CPUCgroup) ProcsFiles() []string {
	var out []string
	for _, d := range c.dirs() {
		out = append(out, filepath.Join(d, "cgroup.procs"))
	}
	return out
}

// Procs returns the PIDs in the cgroup.
func (c *CPUCgroup) Procs() ([]int, error) {
	return (&Cgroup{Dir: c.Dir}).Procs()
}

// Remove kills what is left in the cgroup and removes its directories.
// Removing a cgroup that is gone, or nil (an unbudgeted run), is not an
// error.
func (c *CPUCgroup) Remove() error {
	if c == nil {
		return nil
	}
	var errs []error
	for _, d := range c.dirs() {
		cg := &Cgroup{Dir: d}
		errs = append(errs, removeDir(d, cg.Procs))
	}
	return errors.Join(errs...)
}

// Account reads the cgroup's counters.
func (c *CPUCgroup) Account() (CPUAccount, error) {
	stat, err := readKeyed(filepath.Join(c.Dir, "cpu.stat"))
	if err != nil {
		return CPUAccount{}, err
	}
	a := CPUAccount{Periods: stat["nr_periods"], Throttled: stat["nr_throttled"]}
	if c.Version == 2 {
		a.Usage = time.Duration(stat["usage_usec"]) * time.Microsecond
		a.ThrottledTime = time.Duration(stat["throttled_usec"]) * time.Microsecond
		return a, nil
	}
	a.ThrottledTime = time.Duration(stat["throttled_time"])
	b, err := os.ReadFile(filepath.Join(c.AcctDir, "cpuacct.usage"))
	if err != nil {
		return CPUAccount{}, fmt.Errorf("cgroup: %w", err)
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return CPUAccount{}, fmt.Errorf("cgroup: %s: %w", filepath.Join(c.AcctDir, "cpuacct.usage"), err)
	}
	a.Usage = time.Duration(ns)
	return a, nil
}

// readKeyed reads a flat keyed cgroup file ("key value" lines).
func readKeyed(path string) (map[string]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	m := map[string]int64{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				m[f[0]] = v
			}
		}
	}
	return m, nil
}
