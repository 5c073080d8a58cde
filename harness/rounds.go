package harness

import (
	"context"
	"fmt"
	"math/rand/v2"
)

// Trials run in interleaved rounds: round r measures every contender of a
// block once, in an order shuffled from the experiment's seed and rotated
// by r-1, before round r+1 begins. Drift of a shared machine (other load,
// thermal state, page cache) then hits every contender alike instead of
// whichever ran last, and rounds pair the contenders: trial r of each ran
// within one round, which is what the reports' per-round ratios rest on.
//
// A block is the cells that take turns: every architecture at one value of
// the swept parameter, or every cell when there is one architecture (the
// contenders are then the values, as for the caches sweep) or no sweep.
// Servers stay up across the rounds of their block, started, verified and
// warmed up once; with [memory] or [disk] they cannot share the page cache
// fairly, so each trial starts its server afresh (cold, as the experiment
// wants) and stops it after.

// roundOrder returns the order in which round (1-based) runs n contenders:
// a permutation shuffled from seed, rotated by round-1, so that the order
// differs between rounds and over n rounds each contender runs once in
// each position.
func roundOrder(n int, seed uint64, round int) []int {
	base := rand.New(rand.NewPCG(seed, 0x666c617368)).Perm(n)
	k := (round - 1) % max(n, 1)
	return append(base[k:], base[:k]...)
}

// blocks splits the run's cells into the blocks that take turns, as
// indexes into cells.
func (r *runner) blocks(cells []Cell) [][]int {
	if r.e.Sweep == nil || len(r.archs()) == 1 {
		all := make([]int, len(cells))
		for i := range all {
			all[i] = i
		}
		return [][]int{all}
	}
	var out [][]int
	index := map[string]int{}
	for i, c := range cells {
		k := fmt.Sprint(c.Value)
		j, ok := index[k]
		if !ok {
			j = len(out)
			index[k] = j
			out = append(out, nil)
		}
		out[j] = append(out[j], i)
	}
	return out
}

// fresh reports whether each trial starts its server afresh.
func (r *runner) fresh() bool { return r.e.Memory != nil || r.e.Disk != nil }

// contender is one cell of a block: its server (between rounds, when kept
// up) and whether it is out of the rounds (skipped, or failed to start).
type contender struct {
	c       Cell
	idx     int
	cr      *cellRun
	cleanup func()
	out     bool
}

// runBlock measures a block's cells in rounds, recording each trial's
// point as soon as it is known; servers are stopped on every way out.
func (r *runner) runBlock(ctx context.Context, cells []Cell, idxs []int) {
	cs := make([]*contender, len(idxs))
	for i, idx := range idxs {
		cs[i] = &contender{c: cells[idx], idx: idx}
	}
	defer func() {
		for i := len(cs) - 1; i >= 0; i-- {
			if cs[i].cleanup != nil {
				cs[i].cleanup()
			}
		}
	}()
	for _, k := range cs {
		if ctx.Err() != nil || r.stopped != nil {
			return
		}
		if k.out = r.skipCell(k.c); k.out || r.fresh() {
			continue
		}
		if k.cr, k.cleanup, k.out = r.startCell(ctx, k.idx, k.c, 0); k.out && ctx.Err() != nil {
			return
		}
	}
	for round := 1; round <= r.load.Trials; round++ {
		for _, i := range roundOrder(len(cs), r.e.FileSet.Seed, round) {
			if ctx.Err() != nil || r.stopped != nil {
				return
			}
			if k := cs[i]; !k.out {
				r.runTrial(ctx, k, round)
			}
		}
	}
}

// runTrial measures one round's trial of a contender, starting and
// stopping its server around it when each trial starts afresh.
func (r *runner) runTrial(ctx context.Context, k *contender, round int) {
	if !r.fresh() {
		r.record(r.trial(ctx, k.cr, round))
		return
	}
	cr, cleanup, failed := r.startCell(ctx, k.idx, k.c, round)
	defer cleanup()
	if !failed {
		r.record(r.trial(ctx, cr, round))
	}
}

// skipCell records every trial of a cell that cannot run here as skipped
// (or failed, when the descriptor limit is too low) and reports whether
// it did.
func (r *runner) skipCell(c Cell) bool {
	reason, status := r.skipReason(c)
	if reason == "" {
		return false
	}
	r.recordAll(c, status, reason, 1)
	return true
}

// skipReason says why a cell cannot run here and with which status its
// points are recorded (skipped, or failed when the descriptor limit is
// too low); "" when it can run.
func (r *runner) skipReason(c Cell) (reason, status string) {
	reason, status = r.cgiUnavailable(c.Arch), StatusSkipped
	if reason == "" {
		reason = r.unavailable(c.Arch)
	}
	if need := uint64(r.e.cellConnections(c)) + 64; reason == "" && need > noFileLimit() {
		reason = fmt.Sprintf("needs %d file descriptors, the limit is %d (raise it with ulimit -n)", need, noFileLimit())
		status = StatusFailed
	}
	return reason, status
}

// recordAll records the cell's trials from first on with one status and
// reason.
func (r *runner) recordAll(c Cell, status, reason string, first int) {
	for t := first; t <= r.load.Trials; t++ {
		r.record(PointEntry{ID: c.PointID(t), Arch: c.Arch, Params: c.Params(), Trial: t, Status: status, Reason: reason})
	}
}

// startCell prepares a cell's server (prepareCell) for the trials from
// round on (0: all of them, a server kept up across rounds). When it
// cannot, it records why, for that round's trial only if round > 0 (the
// next round tries afresh), and reports failed; the cleanup is to be
// called in any case.
func (r *runner) startCell(ctx context.Context, idx int, c Cell, round int) (*cellRun, func(), bool) {
	cr := &cellRun{c: c, idx: idx, conns: r.e.cellConnections(c), warmup: r.load.Warmup.Duration}
	cleanup, err := r.prepareCell(ctx, cr)
	if err == nil {
		return cr, cleanup, false
	}
	reason := err.Error()
	if ctx.Err() != nil {
		reason = "run interrupted"
	}
	switch {
	case round > 0:
		r.record(PointEntry{ID: c.PointID(round), Arch: c.Arch, Params: c.Params(), Trial: round, Status: StatusFailed, Reason: reason})
	case ctx.Err() != nil:
		r.record(PointEntry{ID: c.PointID(1), Arch: c.Arch, Params: c.Params(), Trial: 1, Status: StatusFailed, Reason: reason})
	default:
		r.recordAll(c, StatusFailed, reason, 1)
	}
	return nil, cleanup, true
}
