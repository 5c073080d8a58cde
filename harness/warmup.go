package harness

import (
	"context"
	"fmt"
	"time"

	"flashbench/fileset"
)

// Warm-up of a disk-bound cell. Each trial of such a cell starts cold (a
// fresh device mount and memory cgroup), and a fixed warm-up left the
// measured seconds still filling the page cache: at half the memory limit
// sped's trials spread over ±159% (results/dataset-sweep/20261126T054932Z),
// one trial serving from a cold cache and the next from a warm one.
const (
	// warmGrowth is the growth of the set's resident bytes over one
	// warm-up period, as a share of the memory limit, below which the page
	// cache has reached its steady state: the set is resident, or as much
	// of it as the limit lets stay.
	warmGrowth = 0.02
	// warmPeriods bounds the periods of a disk-bound warm-up.
	warmPeriods = 10
)

// warmUp runs the cell's warm-up load. A disk-bound cell repeats it until
// the page cache stops filling (the file set's resident bytes, by mincore,
// grow by less than warmGrowth of the memory limit over a period, or all
// of the set is resident), for at most warmPeriods periods; it returns how
// long it warmed.
func (r *runner) warmUp(ctx context.Context, cr *cellRun, docroot string) (time.Duration, error) {
	start := time.Now()
	if _, err := r.runClient(ctx, cr, cr.warmup, "warmup"); err != nil {
		return 0, err
	}
	if r.e.Disk == nil || cr.manifest == nil {
		return time.Since(start), nil
	}
	step := int64(warmGrowth * float64(r.e.Memory.LimitBytes))
	last, total, err := fileset.Resident(cr.manifest, docroot)
	if err != nil {
		return 0, err
	}
	for n := 1; n < warmPeriods && last < total; n++ {
		if _, err := r.runClient(ctx, cr, cr.warmup, "warmup"); err != nil {
			return 0, err
		}
		res, _, err := fileset.Resident(cr.manifest, docroot)
		if err != nil {
			return 0, err
		}
		grew := res - last
		last = res
		if grew < step {
			break
		}
	}
	r.logf("%s: warmed %v: %s of the %s set resident", cr.c.Arch, time.Since(start).Round(time.Second), mib(last), mib(total))
	return time.Since(start), nil
}

// mib formats n bytes in MiB.
func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }
