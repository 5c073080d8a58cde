package amped

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// HelperFootprint is what one helper process costs in memory: the Go
// runtime's floor of about 1.6 MiB of anonymous memory at GOMAXPROCS=1,
// its page tables and kernel stacks, and the read buffer. Flash's helpers
// were forked C processes that shared nearly all their pages with the
// server; a re-executed Go helper does not, and in a small memory cgroup
// every helper's footprint is page cache the server no longer has.
const HelperFootprint = 5 << 19 // 2.5 MiB

// helperShare is the inverse of the share of the server's memory its
// helpers may take together when the pool sizes itself.
const helperShare = 4

// HelpersFor returns the default number of helpers for a server that may
// use limit bytes of memory, page cache included (0 or less: no limit):
// DefaultHelpers, fewer when their footprints would take more than an
// quarter of limit, and at least one.
func HelpersFor(limit int64) int {
	if limit <= 0 {
		return DefaultHelpers
	}
	return int(max(1, min(int64(DefaultHelpers), limit/(helperShare*HelperFootprint))))
}

// memoryLimit returns the memory limit of this process's memory cgroup
// (the smallest along its path up to the root), or 0 when there is none or
// it cannot be read.
func memoryLimit() int64 {
	return memoryLimitFrom("/proc/self/cgroup", "/sys/fs/cgroup")
}

// memoryLimitFrom reads the cgroup membership file procCgroup and the
// cgroup file systems mounted at fsRoot: a cgroup v1 memory hierarchy at
// fsRoot/memory (memory.limit_in_bytes), or a cgroup v2 hierarchy at fsRoot
// (memory.max).
func memoryLimitFrom(procCgroup, fsRoot string) int64 {
	f, err := os.Open(procCgroup)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		_, rest, _ := strings.Cut(sc.Text(), ":")
		ctrls, path, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		switch {
		case ctrls == "":
			if lim := smallestLimit(fsRoot, path, "memory.max"); lim > 0 {
				return lim
			}
		case hasController(ctrls, "memory"):
			return smallestLimit(filepath.Join(fsRoot, "memory"), path, "memory.limit_in_bytes")
		}
	}
	return 0
}

func hasController(list, name string) bool {
	for _, c := range strings.Split(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// noLimit is the smallest value taken to mean "unlimited": cgroup v1
// reports no limit as a number near 2^63.
const noLimit = 1 << 50

// smallestLimit returns the smallest limit in file along path from the
// hierarchy's root at mount down to path, or 0 when none is set.
func smallestLimit(mount, path, file string) int64 {
	var lim int64
	for dir := filepath.Clean("/" + path); ; dir = filepath.Dir(dir) {
		b, err := os.ReadFile(filepath.Join(mount, dir, file))
		if err == nil {
			v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			if err == nil && v > 0 && v < noLimit && (lim == 0 || v < lim) {
				lim = v
			}
		}
		if dir == "/" {
			return lim
		}
	}
}
