package loadgen

import (
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// SaturationThreshold is the share of its cores above which the client
// itself may have been the bottleneck.
const SaturationThreshold = 0.9

// CPUUsage is the client's own CPU use over a run.
type CPUUsage struct {
	User, System time.Duration
	// Cores is the number of cores the client could use: its threads,
	// bounded by its CPU affinity and GOMAXPROCS.
	Cores int
	// Utilization is (User+System) / (wall time * Cores), at most 1.
	Utilization float64
	// Saturated reports Utilization >= SaturationThreshold.
	Saturated bool
}

type rusage struct{ user, system time.Duration }

func clientCPU() (rusage, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return rusage{}, os.NewSyscallError("getrusage", err)
	}
	return rusage{user: time.Duration(ru.Utime.Nano()), system: time.Duration(ru.Stime.Nano())}, nil
}

// cpuSince returns the CPU used since before, over wall time, by a client
// running threads workers.
func cpuSince(before rusage, wall time.Duration, threads int) (CPUUsage, error) {
	now, err := clientCPU()
	if err != nil {
		return CPUUsage{}, err
	}
	u := CPUUsage{User: now.user - before.user, System: now.system - before.system}
	u.Cores = min(threads, runtime.GOMAXPROCS(0))
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) == nil && set.Count() > 0 {
		u.Cores = min(u.Cores, set.Count())
	}
	u.Cores = max(u.Cores, 1)
	if wall > 0 {
		u.Utilization = min((u.User+u.System).Seconds()/(wall.Seconds()*float64(u.Cores)), 1)
	}
	u.Saturated = u.Utilization >= SaturationThreshold
	return u, nil
}
