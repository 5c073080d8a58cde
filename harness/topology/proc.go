package topology

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// Usage is the resources of a process tree at one moment.
type Usage struct {
	// User and System are the CPU times of the live processes plus those
	// of their reaped descendants (cutime, cstime).
	User, System time.Duration
	// HWMBytes is the sum of the live processes' peak resident sets (VmHWM).
	HWMBytes int64
	// Procs is the number of live processes in the tree.
	Procs int
}

type procStat struct {
	ppid                         int
	utime, stime, cutime, cstime int64
}

// TreeUsage returns the usage of process root and its live descendants.
func TreeUsage(root int) (Usage, error) {
	stats, err := readStats()
	if err != nil {
		return Usage{}, err
	}
	if _, ok := stats[root]; !ok {
		return Usage{}, fmt.Errorf("usage: process %d: gone", root)
	}
	children := map[int][]int{}
	for pid, s := range stats {
		children[s.ppid] = append(children[s.ppid], pid)
	}
	var u Usage
	var ticksU, ticksS int64
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		s := stats[pid]
		ticksU += s.utime + s.cutime
		ticksS += s.stime + s.cstime
		u.HWMBytes += readHWM(pid)
		u.Procs++
		queue = append(queue, children[pid]...)
	}
	u.User = time.Duration(ticksU) * time.Second / clockTicks
	u.System = time.Duration(ticksS) * time.Second / clockTicks
	return u, nil
}

func readStats() (map[int]procStat, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	out := make(map[int]procStat, len(ents))
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		if s, ok := parseStat(b); ok {
			out[pid] = s
		}
	}
	return out, nil
}

// parseStat reads ppid, utime, stime, cutime and cstime from a
// /proc/PID/stat line; the command name may hold spaces and parentheses,
// so fields are counted from the last ')'.
func parseStat(b []byte) (procStat, bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): ppid is field 4, utime..cstime 14..17.
	if len(f) < 15 {
		return procStat{}, false
	}
	var s procStat
	var err error
	s.ppid, err = strconv.Atoi(f[1])
	if err != nil {
		return procStat{}, false
	}
	for j, dst := range []*int64{&s.utime, &s.stime, &s.cutime, &s.cstime} {
		if *dst, err = strconv.ParseInt(f[11+j], 10, 64); err != nil {
			return procStat{}, false
		}
	}
	return s, true
}

// readHWM returns VmHWM of pid in bytes, 0 when unknown (kernel threads,
// zombies, a process that just exited).
func readHWM(pid int) int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
