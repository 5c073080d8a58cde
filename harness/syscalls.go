package harness

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"flashbench/harness/topology"
	"flashbench/internal/provenance"
	"flashbench/results"
)

// System calls are counted after a block's measured rounds, in one
// unmeasured pass per contender: its server is started as for a trial
// (same files, flags, pinning and CPU cgroup) and warmed up, strace -c -f
// is attached to every process of its tree once they have settled, the
// load generator makes a fixed number of requests with the experiment's
// connection model, strace is interrupted and its table read. strace
// stops the server twice on every system call, which slows it down many
// times over: the pass is not measured, only its counts are kept, in
// syscalls/<contender>.json, beside strace's own table
// (syscalls/<contender>.strace). For the same reason the server runs
// without its CPU quota (a process per connection under strace and a
// 0.3 quota would take minutes); the counts of the calls that serve a
// connection do not depend on it, while those that depend on timing
// (epoll_wait's, futex's, accept4's EAGAIN) vary from pass to pass anyway.

// syscallsDir is the run directory's folder of system call counts.
const syscallsDir = "syscalls"

// syscallPassLimit bounds the load generator's part of a pass.
const syscallPassLimit = 5 * time.Minute

// setSyscalls sets the requests of each contender's pass: the run's
// Syscalls when set, else the experiment's.
func (r *runner) setSyscalls() error {
	if r.e.Syscalls != nil {
		r.syscalls = r.e.Syscalls.Requests
	}
	if n := r.o.Syscalls; n != nil {
		if *n < 0 || *n > MaxSyscallRequests {
			return fmt.Errorf("syscalls: %d requests, want 0..%d (0: no count)", *n, MaxSyscallRequests)
		}
		r.syscalls = *n
	}
	return nil
}

// countSyscalls makes the system call pass of each contender of a block
// that can run here, after the block's rounds, and archives its document.
func (r *runner) countSyscalls(ctx context.Context, cells []Cell, idxs []int) {
	if r.syscalls <= 0 {
		return
	}
	for _, idx := range idxs {
		if ctx.Err() != nil || r.stopped != nil {
			return
		}
		c := cells[idx]
		if reason, _ := r.skipReason(c); reason != "" {
			continue
		}
		doc := r.syscallPass(ctx, idx, c)
		r.archiveSyscalls(c, doc)
	}
}

// syscallPass counts a contender's system calls; a pass that fails says
// why in the document's error.
func (r *runner) syscallPass(ctx context.Context, idx int, c Cell) *results.Syscalls {
	prov := r.prov
	prov.Tools = maps.Clone(prov.Tools)
	doc := &results.Syscalls{SchemaVersion: results.SyscallsSchemaVersion, Experiment: r.e.Name, Arch: c.Arch,
		Params: c.Params(), StartedAt: time.Now().UTC(), RequestsRequested: int64(r.syscalls),
		ConcurrentConnections: r.e.cellConnections(c), RequestsPerConn: r.load.RequestsPerConn, Provenance: prov}
	if err := r.tracePass(ctx, idx, c, doc); err != nil {
		doc.Error = oneLine(err.Error())
		if ctx.Err() != nil {
			doc.Error = "run interrupted"
		}
		doc.Calls, doc.TotalCalls, doc.TotalErrors, doc.CallsPerRequest, doc.CallsPerConnection = nil, 0, 0, 0, 0
	}
	return doc
}

// tracePass runs a contender's pass and fills doc in.
func (r *runner) tracePass(ctx context.Context, idx int, c Cell, doc *results.Syscalls) error {
	if _, remote := r.o.Topology.(topology.Remote); remote {
		return errors.New("system calls are counted on the local and netns topologies only")
	}
	bin, err := exec.LookPath("strace")
	if err != nil {
		return errors.New("strace not found (apt-get install strace)")
	}
	if v, err := provenance.ToolVersion(bin, "-V"); err == nil {
		if doc.Provenance.Tools == nil {
			doc.Provenance.Tools = results.Map[string]{}
		}
		doc.Provenance.Tools["strace"] = v
	}
	cr := &cellRun{c: c, idx: idx, conns: doc.ConcurrentConnections, warmup: r.load.Warmup.Duration, noQuota: true}
	cleanup, err := r.prepareCell(ctx, cr)
	defer cleanup()
	if err != nil {
		return err
	}
	pids, err := settle(ctx, cr, r.o.StartTimeout)
	if err != nil {
		return err
	}
	doc.ProcessesAttached = len(pids)
	dir := filepath.Join(r.dir, syscallsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("syscalls: %w", err)
	}
	out := filepath.Join(dir, c.Name()+".strace")
	tr, err := startStrace(bin, out, filepath.Join(r.work, c.Name()+".strace.log"), pids)
	if err != nil {
		return err
	}
	defer tr.stop()
	attached := time.Now()
	if err := tr.waitAttached(ctx, pids, r.o.StartTimeout); err != nil {
		return err
	}
	res, lerr := r.runLoad(ctx, cr, 0, int64(r.syscalls), "syscalls")
	serr := tr.stop()
	doc.DurationS = time.Since(attached).Seconds()
	if err := passError(cr, res, lerr, serr, r.load); err != nil {
		return err
	}
	return fillCounts(doc, out, res)
}

// passError says why a pass's counts cannot be used: the client failed
// or measured too many errors, the server exited, or strace did not end
// as told.
func passError(cr *cellRun, res *results.Result, lerr, serr error, l Load) error {
	if gone := cr.srv.exited(); gone != "" {
		return fmt.Errorf("the server exited during the pass %s%s", gone, logTail(cr.srv.log))
	}
	if lerr != nil {
		return lerr
	}
	if serr != nil {
		return serr
	}
	l.AllowSaturatedClient = true // the client's speed is not in question
	if why := failReason(res, l); why != "" {
		return errors.New(why)
	}
	return nil
}

// fillCounts reads strace's table from path into doc, per request and
// per connection of the client's result.
func fillCounts(doc *results.Syscalls, path string, res *results.Result) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("syscalls: %w", err)
	}
	defer f.Close()
	counts, err := ParseStraceCounts(f)
	if err != nil {
		return fmt.Errorf("syscalls: %s: %w", filepath.Base(path), err)
	}
	doc.Calls, doc.TotalCalls, doc.TotalErrors = counts.Calls, counts.Total.Calls, counts.Total.Errors
	doc.Requests = res.RequestsTotal
	doc.Connections = int64(math.Round(res.ConnectionsPerS * res.DurationS))
	if doc.Requests > 0 {
		doc.CallsPerRequest = float64(doc.TotalCalls) / float64(doc.Requests)
	}
	if doc.Connections > 0 {
		doc.CallsPerConnection = float64(doc.TotalCalls) / float64(doc.Connections)
	}
	return nil
}

// archiveSyscalls writes a contender's document into the run directory's
// syscalls/ and logs its figures. A document that cannot be written stops
// the run, as a result that cannot be.
func (r *runner) archiveSyscalls(c Cell, doc *results.Syscalls) {
	path := filepath.Join(r.dir, syscallsDir, c.Name()+".json")
	err := os.MkdirAll(filepath.Dir(path), 0o755)
	if err == nil {
		err = results.WriteSyscalls(path, doc)
	}
	if err != nil {
		r.logf("syscalls %s: %v", c.Name(), err)
		r.stopRun(err)
		return
	}
	r.out.Syscalls = append(r.out.Syscalls, doc)
	if doc.Error != "" {
		r.logf("syscalls %s: failed: %s", c.Name(), doc.Error)
		return
	}
	r.logf("syscalls %s: %.1f calls per connection, %.1f per request (%d requests, %d connections, %.1f s under strace)",
		c.Name(), doc.CallsPerConnection, doc.CallsPerRequest, doc.Requests, doc.Connections, doc.DurationS)
}

// settleQuiet is how long a server's processes and threads must stay the
// same before strace attaches.
const settleQuiet = 500 * time.Millisecond

// settle waits until the server's processes and their threads have
// stayed the same for settleQuiet (every prefork worker started, the
// warm-up's forked children gone, no runtime starting up), so that the
// count holds no start-up and strace does not attach to a process
// while it makes threads; it returns their PIDs.
func settle(ctx context.Context, cr *cellRun, limit time.Duration) ([]int, error) {
	deadline := time.Now().Add(limit)
	var last string
	since := time.Now()
	for {
		pids, err := serverTree(cr)
		if err != nil {
			return nil, err
		}
		shape := fmt.Sprint(pids, threadCounts(pids))
		switch {
		case shape != last:
			last, since = shape, time.Now()
		case time.Since(since) >= settleQuiet:
			return pids, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("syscalls: the server's processes and threads still changed after %v", limit)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// threadCounts returns the number of threads of each of pids.
func threadCounts(pids []int) []int {
	n := make([]int, len(pids))
	for i, p := range pids {
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", p))
		n[i] = len(tasks)
	}
	return n
}

// serverTree returns the PIDs of the server's processes: its CPU cgroup's
// when it has one (every process it started, whatever its parent), else
// the server and its descendants.
func serverTree(cr *cellRun) ([]int, error) {
	root := cr.srv.proc.PID()
	pids := []int{root}
	if cr.cpu != nil {
		procs, err := cr.cpu.Procs()
		if err != nil {
			return nil, fmt.Errorf("syscalls: %w", err)
		}
		pids = append(pids, procs...)
	} else {
		pids = append(pids, descendants(root)...)
	}
	slices.Sort(pids)
	return slices.Compact(pids), nil
}

// descendants returns the descendants of pid, from the children lists of
// its threads (/proc/PID/task/TID/children).
func descendants(pid int) []int {
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", p))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			for _, w := range strings.Fields(string(b)) {
				var child int
				if _, err := fmt.Sscan(w, &child); err == nil && !slices.Contains(out, child) {
					out = append(out, child)
					queue = append(queue, child)
				}
			}
		}
	}
	return out
}

// oneLine joins an error's lines, for a document's one-line error.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
