package soak

import (
	"context"
	"time"
)

// How long the samples wait for a server to settle: at the start, for the
// warm-up's connections (and forking children) to be gone; at the end,
// for the checks to pass (idle connections closed, children reaped,
// pools refilled).
const (
	settleStart = 10 * time.Second
	settleEnd   = 20 * time.Second
)

// monitor looks at every server's workers and helpers once a second
// during the load and notes each that disappears; the verdict puts the
// disappearances down to the kills of the faults, or to a crash.
func (r *run) monitor(ctx context.Context) {
	prev := map[*archRun]map[int]string{}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if all, err := listProcs(); err == nil {
			now := time.Now()
			for _, a := range r.archs {
				if a.srv.exited() {
					continue
				}
				kids := children(all, a.srv.pid, r.cgiDir)
				cur := map[int]string{}
				for _, k := range []string{kindWorker, kindHelper} {
					for _, pid := range kids[k] {
						cur[pid] = k
					}
				}
				a.mu.Lock()
				for pid, k := range prev[a] {
					if _, ok := cur[pid]; !ok {
						a.exits = append(a.exits, childExit{at: now, pid: pid, kind: k})
					}
				}
				a.mu.Unlock()
				prev[a] = cur
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sampleAll samples every server's process tree once it has settled:
// the start sample (end false) once no forking child or zombie is left
// from the warm-up, the end sample once the checks against the start
// pass; either after its settle time at the latest.
func (r *run) sampleAll(ctx context.Context, end bool) {
	r.eachArch(func(a *archRun) {
		deadline := time.Now().Add(settleStart)
		if end {
			deadline = time.Now().Add(r.o.settleEnd)
		}
		for {
			var s Sample
			if all, err := listProcs(); err == nil {
				s = sampleTree(all, a.srv.pid, r.root.dir, r.cgiDir)
			}
			settled := s.ByKind[kindChild] == 0 && s.Zombies == 0
			if end {
				settled = len(r.sampleProblems(a, a.start, s)) == 0
			}
			if settled || !time.Now().Before(deadline) || ctx.Err() != nil {
				if end {
					a.end = s
				} else {
					a.start = s
				}
				return
			}
			sleep(ctx, 250*time.Millisecond)
		}
	})
}
