package robust_test

import (
	"errors"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/proctree"
)

// testKillChild kills a child of the server (a prefork worker, an AMPED
// helper) with SIGKILL while clients load it: service continues (a client
// may lose the one request the victim held), a replacement appears, no
// zombie is left and the main process's descriptors, those that lead to
// no live child, return to their count.
func testKillChild(t *testing.T, e *env) {
	pid := e.srv.Pid()
	// A prefork pool is full from the start; flashlite spawns helpers on
	// demand, so the load runs first and the pool is what it brought up.
	atLeast := func(n int) func([]int) bool { return func(p []int) bool { return len(p) >= n } }
	enough := atLeast(1)
	if e.arch == "prefork" {
		enough = atLeast(preforkWorkers)
	}
	warm := startLoad(e.addr(), 3)
	kids := waitChildren(t, pid, enough)
	warm.stop()
	fdsBefore := settledFDs(t, e.root, func() []int { return []int{pid} }, func() []int { return children(t, pid) })
	load := startLoad(e.addr(), 3)
	time.Sleep(200 * time.Millisecond)
	victim := kids[0]
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatalf("kill %d: %v", victim, err)
	}
	after := waitChildren(t, pid, func(p []int) bool { return !slices.Contains(p, victim) && enough(p) })
	time.Sleep(300 * time.Millisecond) // keep loading the new set
	ok, failed, first := load.stop()
	t.Logf("children %v -> %v; %d good, %d failed requests (first failure: %v)", kids, after, ok, failed, first)
	if ok == 0 || failed > 3 {
		t.Errorf("under the kill: got %d good and %d failed requests (first: %v), want at most one failure per client",
			ok, failed, first)
	}
	if !waitFor(5*time.Second, func() bool { z, _ := proctree.Zombies(pid); return len(z) == 0 }) {
		z, _ := proctree.Zombies(pid)
		t.Errorf("got zombies %+v of %d, want none", z, pid)
	}
	checkFDs(t, "a leak per killed child process", func() int { return unpooledFDs(e.root, []int{pid}, children(t, pid)) }, fdsBefore)
	mustServe(t, e.addr(), "after the kill")
}

// children returns the live children of pid, sorted.
func children(t *testing.T, pid int) []int {
	t.Helper()
	all := descendants(t, pid)
	var pids []int
	for _, p := range all {
		if p.PPID == pid && p.State != 'Z' {
			pids = append(pids, p.PID)
		}
	}
	slices.Sort(pids)
	return pids
}

// waitChildren waits until the live children of pid satisfy cond.
func waitChildren(t *testing.T, pid int, cond func([]int) bool) []int {
	t.Helper()
	var pids []int
	if !waitFor(20*time.Second, func() bool {
		pids = children(t, pid)
		return cond(pids)
	}) {
		t.Fatalf("got children %v of %d, want the pool full without the killed one", pids, pid)
	}
	return pids
}

// load is clients fetching one target back to back, counting the
// results.
type load struct {
	done     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	ok, fail int
	// badGateway counts the failures that were 502 answers.
	badGateway int
	first      error
}

// startLoad starts n clients fetching 500b.txt from addr.
func startLoad(addr string, n int) *load {
	return startLoadOf(addr, "/500b.txt", conformance.File("500b.txt"), n)
}

// startLoadOf starts n clients fetching target from addr, each answer
// checked against want.
func startLoadOf(addr, target string, want []byte, n int) *load {
	l := &load{done: make(chan struct{})}
	for range n {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.done:
					return
				default:
				}
				err := fetch(addr, target, want)
				l.mu.Lock()
				if err == nil {
					l.ok++
				} else if l.fail++; l.first == nil {
					l.first = err
				}
				if errors.Is(err, errBadGateway) {
					l.badGateway++
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

// stop ends the load and returns its counts.
func (l *load) stop() (ok, fail int, first error) {
	close(l.done)
	l.wg.Wait()
	return l.ok, l.fail, l.first
}

// descendants lists the processes below pid. proctree.List reports a
// process that exits between its readdir and its stat as ESRCH: that is
// retried.
func descendants(t *testing.T, pid int) []proctree.Proc {
	t.Helper()
	all, err := proctree.Descendants(pid)
	for try := 0; err != nil && errors.Is(err, syscall.ESRCH) && try < 10; try++ {
		all, err = proctree.Descendants(pid)
	}
	if err != nil {
		t.Fatal(err)
	}
	return all
}
