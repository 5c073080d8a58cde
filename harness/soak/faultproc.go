package soak

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Descriptor pressure: the core processes' RLIMIT_NOFILE is lowered to
// what they have open plus pressureHeadroom for pressureFor.
const (
	pressureFor      = 3 * time.Second
	pressureHeadroom = 2
	// refillWait bounds the wait for a prefork pool to be full again.
	refillWait = 10 * time.Second
)

// children returns a's live processes by kind.
func (e *faultEnv) children() map[string][]int {
	all, err := listProcs()
	if err != nil {
		return nil
	}
	return children(all, e.a.srv.pid, e.r.cgiDir)
}

// corePIDs returns the server process and its prefork workers.
func (e *faultEnv) corePIDs() []int {
	return append([]int{e.a.srv.pid}, e.children()[kindWorker]...)
}

// injectFDPressure lowers the core processes' descriptor limit (soft
// limit only, so that restoring needs no privilege) to barely above what
// they hold, keeps it there while the load goes on, and restores it.
func injectFDPressure(ctx context.Context, e *faultEnv, f *Fault) {
	f.TargetPID = e.a.srv.pid
	var main unix.Rlimit
	if err := unix.Prlimit(e.a.srv.pid, unix.RLIMIT_NOFILE, nil, &main); err != nil {
		f.Skipped, f.Outcome = true, "prlimit: "+err.Error()
		return
	}
	old := map[int]unix.Rlimit{}
	for _, pid := range e.corePIDs() {
		var was unix.Rlimit
		n, err := fdCount(pid)
		if err != nil || unix.Prlimit(pid, unix.RLIMIT_NOFILE, nil, &was) != nil {
			continue
		}
		lim := unix.Rlimit{Cur: uint64(n + pressureHeadroom), Max: was.Max}
		if unix.Prlimit(pid, unix.RLIMIT_NOFILE, &lim, nil) == nil {
			old[pid] = was
		}
	}
	sleep(ctx, pressureFor)
	// Workers started meanwhile inherited the lowered limit from the
	// master: they get the master's.
	restored := 0
	for _, pid := range e.corePIDs() {
		was, ok := old[pid]
		if !ok {
			was = main
		}
		if unix.Prlimit(pid, unix.RLIMIT_NOFILE, &was, nil) == nil {
			restored++
		}
	}
	f.Outcome = fmt.Sprintf("RLIMIT_NOFILE lowered to open+%d on %d processes for %v, restored on %d",
		pressureHeadroom, len(old), pressureFor, restored)
}

// injectKillWorker kills a prefork worker with SIGKILL and waits for the
// master to fill the pool again.
func injectKillWorker(ctx context.Context, e *faultEnv, f *Fault) {
	workers := e.children()[kindWorker]
	if len(workers) == 0 {
		f.Skipped, f.Outcome = true, "no worker alive"
		return
	}
	victim := workers[e.rng.IntN(len(workers))]
	e.kill(f, victim)
	start := time.Now()
	var now []int
	for time.Since(start) < refillWait && sleep(ctx, 100*time.Millisecond) {
		if now = e.children()[kindWorker]; len(now) >= e.a.spec.workers && !slices.Contains(now, victim) {
			f.Outcome = fmt.Sprintf("killed worker %d; pool full again after %v", victim, time.Since(start).Round(time.Millisecond))
			return
		}
	}
	f.Outcome = fmt.Sprintf("killed worker %d; %d of %d workers after %v", victim, len(now), e.a.spec.workers, refillWait)
	f.Finding = "kill-worker: the pool was not full again within " + refillWait.String()
}

// kill sends SIGKILL to pid, a process of a's tree, remembering it.
func (e *faultEnv) kill(f *Fault, pid int) {
	e.killed(pid)
	f.TargetPID = pid
	syscall.Kill(pid, syscall.SIGKILL)
}

// injectKillHelper makes the helpers work (requests for names no cache
// holds: every one is a pathname miss) and kills one of them mid-way.
func injectKillHelper(ctx context.Context, e *faultEnv, f *Fault) {
	tctx, cancel := context.WithCancel(ctx)
	misses := make(chan int, 1)
	go func() {
		n := 0
		for ; tctx.Err() == nil && n < 400; n++ {
			u, _ := e.scratchPath("miss")
			fetch(tctx, e.a.srv.addr, u)
		}
		misses <- n
	}()
	var helpers []int
	for start := time.Now(); time.Since(start) < 3*time.Second && sleep(ctx, 50*time.Millisecond); {
		if helpers = e.children()[kindHelper]; len(helpers) > 0 {
			break
		}
	}
	if len(helpers) > 0 {
		e.kill(f, helpers[e.rng.IntN(len(helpers))])
		sleep(ctx, 500*time.Millisecond)
	}
	cancel()
	n := <-misses
	if len(helpers) == 0 {
		f.Skipped, f.Outcome = true, fmt.Sprintf("no helper alive after %d misses", n)
		return
	}
	f.Outcome = fmt.Sprintf("killed helper %d among %d while %d misses went to the helpers", f.TargetPID, len(helpers), n)
}

// injectKillCGI kills one of a's persistent CGI processes.
func injectKillCGI(_ context.Context, e *faultEnv, f *Fault) {
	cgis := e.children()[kindCGI]
	if len(cgis) == 0 {
		f.Skipped, f.Outcome = true, "no CGI process alive"
		return
	}
	victim := cgis[e.rng.IntN(len(cgis))]
	name := "?"
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(victim) + "/cmdline"); err == nil {
		name = filepath.Base(strings.SplitN(string(b), "\x00", 2)[0])
	}
	e.kill(f, victim)
	f.Outcome = fmt.Sprintf("killed CGI process %d (%s) among %d", victim, name, len(cgis))
}
