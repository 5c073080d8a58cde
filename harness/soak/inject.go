package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path"
	"sync"
	"time"
)

// faultEnv is what an injected fault works with.
type faultEnv struct {
	r   *run
	a   *archRun
	rng *rand.Rand
}

// schedule returns the run's fault schedule.
func (r *run) schedule() []scheduled {
	specs := make([]archSpec, len(r.archs))
	for i, a := range r.archs {
		specs[i] = a.spec
	}
	return schedule(specs, r.o.Seed, r.o.Duration, r.o.FaultPeriod)
}

// arch returns the run of the named architecture.
func (r *run) arch(name string) *archRun {
	for _, a := range r.archs {
		if a.spec.name == name {
			return a
		}
	}
	return nil
}

// injectAll injects the scheduled faults, each at its time in a goroutine
// of its own, and waits until every one is over.
func (r *run) injectAll(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for i, s := range r.schedule() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(r.t0.Add(s.at))):
		}
		f := &Fault{Kind: s.kind.name, Arch: s.arch, explains: s.kind.explains}
		r.mu.Lock()
		r.faults = append(r.faults, f)
		r.mu.Unlock()
		e := &faultEnv{r: r, a: r.arch(s.arch), rng: rand.New(rand.NewPCG(r.o.Seed, uint64(i)))}
		wg.Go(func() {
			f.start = time.Now()
			f.AtS = r.since(f.start)
			if e.a.srv.exited() {
				f.Skipped, f.Outcome = true, "server not running"
			} else {
				s.kind.inject(ctx, e, f)
			}
			f.end = time.Now()
			f.DurationS = f.end.Sub(f.start).Seconds()
			r.logf("%6.1fs %-17s %-9s %s", f.AtS, f.Kind, f.Arch, f.Outcome)
		})
	}
}

// killed remembers a process the soak killed, so that its exit is not
// taken for a crash.
func (e *faultEnv) killed(pid int) {
	e.r.mu.Lock()
	e.r.killed[pid] = true
	e.r.mu.Unlock()
}

// scratchPath returns a new scratch URL path and file name for a.
func (e *faultEnv) scratchPath(stem string) (urlPath, file string) {
	n := e.a.scratch.Add(1)
	name := fmt.Sprintf("%s-%s-%d.bin", e.a.spec.name, stem, n)
	return "/" + path.Join(scratchDir, name), path.Join(e.r.root.dir, scratchDir, name)
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
