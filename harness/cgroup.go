package harness

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// CgroupRoot is where cgroup file systems are mounted.
var CgroupRoot = "/sys/fs/cgroup"

// Cgroup is a memory cgroup the harness made to bound a server's memory,
// page cache included.
type Cgroup struct {
	// Dir is the cgroup's directory.
	Dir string
	// Version is 1 or 2.
	Version int
}

// CgroupVersion reports which cgroup hierarchy holds the memory controller:
// 2 when CgroupRoot is a cgroup2 file system, 1 when it holds a v1 memory
// hierarchy, and an error saying why neither can be used.
func CgroupVersion() (int, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(CgroupRoot, &st); err != nil {
		return 0, fmt.Errorf("cgroup: %w", os.NewSyscallError("statfs", err))
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return 2, nil
	}
	if err := unix.Statfs(filepath.Join(CgroupRoot, "memory"), &st); err == nil && st.Type == unix.CGROUP_SUPER_MAGIC {
		return 1, nil
	}
	return 0, fmt.Errorf("cgroup: no memory controller under %s", CgroupRoot)
}

// NewMemoryCgroup creates the cgroup flashbench-<name> with its memory
// bounded to limit bytes. It needs root.
func NewMemoryCgroup(name string, limit int64) (*Cgroup, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("cgroup: needs root to create a memory cgroup")
	}
	v, err := CgroupVersion()
	if err != nil {
		return nil, err
	}
	cg := &Cgroup{Version: v, Dir: filepath.Join(CgroupRoot, "flashbench-"+name)}
	limitFile := "memory.max"
	if v == 1 {
		cg.Dir = filepath.Join(CgroupRoot, "memory", "flashbench-"+name)
		limitFile = "memory.limit_in_bytes"
	} else if err := enableController("memory"); err != nil {
		return nil, err
	}
	if err := os.Mkdir(cg.Dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	if err := writeFile(filepath.Join(cg.Dir, limitFile), strconv.FormatInt(limit, 10)); err != nil {
		cg.Remove()
		return nil, err
	}
	return cg, nil
}

// enableController makes the controller name available to the root's
// children on cgroup v2.
func enableController(name string) error {
	ctl := filepath.Join(CgroupRoot, "cgroup.subtree_control")
	b, err := os.ReadFile(ctl)
	if err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	for _, c := range strings.Fields(string(b)) {
		if c == name {
			return nil
		}
	}
	return writeFile(ctl, "+"+name)
}

// ProcsFile is the file a process writes its PID to in order to join.
func (c *Cgroup) ProcsFile() string { return filepath.Join(c.Dir, "cgroup.procs") }

// cgroupNameRE matches the cgroups runs make: flashbench-PID-CELL.
var cgroupNameRE = regexp.MustCompile(`^flashbench-([0-9]+)-`)

// SweepCgroups removes the cgroups flashbench-PID-* (memory and CPU)
// whose harness process PID no longer exists: left by a run that was
// killed before it could remove them (a second Ctrl-C, SIGKILL). It
// returns their directories.
func SweepCgroups() ([]string, error) {
	var removed []string
	for _, parent := range cgroupParents() {
		ents, err := os.ReadDir(parent)
		if err != nil {
			continue
		}
		for _, e := range ents {
			m := cgroupNameRE.FindStringSubmatch(e.Name())
			if m == nil || !e.IsDir() {
				continue
			}
			pid, err := strconv.Atoi(m[1])
			if err != nil || pid == os.Getpid() || !errors.Is(unix.Kill(pid, 0), unix.ESRCH) {
				continue
			}
			cg := &Cgroup{Dir: filepath.Join(parent, e.Name())}
			if err := removeDir(cg.Dir, cg.Procs); err != nil {
				return removed, fmt.Errorf("cgroup sweep: %w", err)
			}
			removed = append(removed, cg.Dir)
		}
	}
	return removed, nil
}

// cgroupParents are the directories the harness makes cgroups in:
// CgroupRoot on cgroup v2; on v1 the memory, cpu and cpuacct hierarchies
// there are, each once (cpu and cpuacct are often one mount).
func cgroupParents() []string {
	var st unix.Statfs_t
	if unix.Statfs(CgroupRoot, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return []string{CgroupRoot}
	}
	var out []string
	for _, n := range append(append([]string{"memory"}, cpuHierarchies...), cpuacctHierarchies...) {
		dir, err := filepath.EvalSymlinks(filepath.Join(CgroupRoot, n))
		if err == nil && unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP_SUPER_MAGIC && !slices.Contains(out, dir) {
			out = append(out, dir)
		}
	}
	return out
}

// LimitFile is the file holding the memory bound.
func (c *Cgroup) LimitFile() string {
	if c.Version == 1 {
		return filepath.Join(c.Dir, "memory.limit_in_bytes")
	}
	return filepath.Join(c.Dir, "memory.max")
}

// Procs returns the PIDs in the cgroup.
func (c *Cgroup) Procs() ([]int, error) {
	b, err := os.ReadFile(c.ProcsFile())
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Remove kills what is left in the cgroup and removes it. Removing a
// cgroup that is gone is not an error.
func (c *Cgroup) Remove() error { return removeDir(c.Dir, c.Procs) }

// removeDir kills the processes procs lists and removes the cgroup dir.
func removeDir(dir string, procs func() ([]int, error)) error {
	var err error
	for i := 0; i < 50; i++ {
		if pids, perr := procs(); perr == nil {
			for _, pid := range pids {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
		err = unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("cgroup: remove %s: %w", dir, os.NewSyscallError("rmdir", err))
}

func writeFile(path, s string) error {
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		return fmt.Errorf("cgroup: write %s: %w", path, err)
	}
	return nil
}
