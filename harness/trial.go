package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"flashbench/harness/topology"
	"flashbench/results"
)

// trial measures trial t of a cell: the server's CPU time is taken from
// its CPU cgroup (budget.go) and from /proc before and after the client's
// run, its peak memory sampled while it runs, its stats file read after
// it. A trial whose server exited is
// archived all the same, failed, with what the client saw; the cell's
// later trials are not run.
func (r *runner) trial(ctx context.Context, cr *cellRun, t int) PointEntry {
	c := cr.c
	p := PointEntry{ID: c.PointID(t), Arch: c.Arch, Params: c.Params(), Trial: t, Status: StatusFailed}
	if gone := cr.srv.exited(); gone != "" {
		p.Reason = "not run: the server exited " + gone
		if cr.diedIn > 0 {
			p.Reason = fmt.Sprintf("not run: the server exited during trial %d", cr.diedIn)
		}
		return p
	}
	before, err := cr.srv.proc.Usage()
	if err != nil {
		p.Reason = "server: " + err.Error()
		return p
	}
	var devBefore deviceReport
	if cr.dev != nil {
		if devBefore, err = cr.dev.report(); err != nil {
			p.Reason = err.Error()
			return p
		}
	}
	peak, cpu := startPeakSampler(cr.srv.proc, before), startCPUSampler(cr.cpu)
	res, err := r.runClient(ctx, cr, r.load.Duration.Duration, p.ID)
	hwm, last := peak.stop()
	samples := cpu.stop()
	if ctx.Err() != nil {
		p.Reason = "run interrupted"
		return p
	}
	if res == nil {
		p.Reason = err.Error()
		return p
	}
	gone := cr.srv.setUsage(res, before, hwm, last)
	if cr.dev != nil && err == nil {
		err = cr.dev.measure(res, devBefore)
	}
	r.annotate(res, cr, t, p.ID)
	res.Budget = r.budgetOf(res, samples)
	bound := BoundOf(res, linkRate(r.o.Topology))
	res.Bound = &bound
	switch {
	case gone != "":
		cr.diedIn = t
		p.Reason = "server exited during the measurement " + gone + logTail(cr.srv.log)
		res.Note = joinNote("the server exited during the measurement "+gone, res.Note)
	case err != nil:
		p.Reason = err.Error()
	default:
		p.Status, p.Reason = StatusOK, failReason(res, r.load)
		if p.Reason != "" {
			p.Status = StatusFailed
		}
	}
	return r.archive(p, res)
}

// archive writes a trial's result document into the run directory and
// names it in p. A document that cannot be written fails the point; when
// the file system refused it (a full disk), it also stops the run:
// nothing after it could be kept either.
func (r *runner) archive(p PointEntry, res *results.Result) PointEntry {
	p.Result = p.ID + ".json"
	if err := results.Write(filepath.Join(r.dir, p.Result), res); err != nil {
		p.Status, p.Reason, p.Result = StatusFailed, err.Error(), ""
		var pathErr *os.PathError
		var linkErr *os.LinkError
		if errors.As(err, &pathErr) || errors.As(err, &linkErr) {
			r.stopRun(err)
		}
		return p
	}
	r.out.Results[p.ID] = res
	return p
}

// joinNote puts what the harness knows before the client's note.
func joinNote(harness, client string) string {
	if client == "" {
		return harness
	}
	return harness + "; " + client
}

// failReason says why a measured point cannot be trusted, or "".
func failReason(res *results.Result, l Load) string {
	maxErr := l.MaxErrorRatio
	attempts := res.RequestsTotal + res.ErrorsTotal
	switch {
	case res.RequestsTotal == 0:
		return fmt.Sprintf("no request completed (%d errors)", res.ErrorsTotal)
	case float64(res.ErrorsTotal) > maxErr*float64(attempts):
		return fmt.Sprintf("errors %d of %d requests (%.1f%%), above the %.1f%% threshold",
			res.ErrorsTotal, attempts, 100*float64(res.ErrorsTotal)/float64(attempts), 100*maxErr)
	case res.Client != nil && res.Client.Saturated && !l.AllowSaturatedClient:
		return fmt.Sprintf("client saturated (cpu %.0f%%): the client, not the server, may have been the bottleneck",
			100*res.Client.CPUUtilization)
	}
	return ""
}

// annotate adds the harness's provenance and the point's parameters.
func (r *runner) annotate(res *results.Result, cr *cellRun, t int, id string) {
	res.Provenance = r.prov
	res.Config.WarmupS = cr.warmedFor.Seconds()
	x := res.Config.Extra
	if x == nil {
		x = results.Object{}
	}
	fs := r.e.cellFileSet(cr.c)
	x["experiment"], x["arch"], x["trial"], x["point"] = r.e.Name, cr.c.Arch, t, id
	x["params"] = cr.c.Params()
	if cr.manifest != nil {
		x["fileset"] = map[string]any{"kind": fs.Kind, "seed": fs.Seed, "count": len(cr.manifest.Files),
			"total_bytes": cr.manifest.TotalBytes, "size_bytes": fs.SizeBytes, "connections": fs.Connections}
	} else {
		x["fileset"] = map[string]any{"kind": fs.Kind, "program": fs.Program, "size_bytes": fs.SizeBytes, "target": cr.target}
	}
	if len(r.e.Server.Args) > 0 {
		x["server_args"] = r.e.Server.Args
	}
	if r.e.Memory != nil {
		x["memory_limit_bytes"] = r.e.Memory.LimitBytes
	}
	res.Config.Extra = x
}

// runClient runs bin/loadgen as a child process pinned to the client CPUs
// for d and returns its result document. A client that failed may still
// have written one (a server unreachable from the start): then both come
// back, the document and the error.
func (r *runner) runClient(ctx context.Context, cr *cellRun, d time.Duration, name string) (*results.Result, error) {
	return r.runLoad(ctx, cr, d, 0, name)
}

// runLoad is runClient for d, or, when n is positive, for n requests
// (within syscallPassLimit).
func (r *runner) runLoad(ctx context.Context, cr *cellRun, d time.Duration, n int64, name string) (*results.Result, error) {
	out := filepath.Join(r.work, name+".json")
	defer os.Remove(out)
	logf, err := os.Create(filepath.Join(r.work, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	defer logf.Close()
	cmd := topology.Command{Path: filepath.Join(r.o.BinDir, "loadgen"), Args: r.clientArgs(cr, d, n, out), Stdout: logf, Stderr: logf}
	p, err := r.o.Topology.StartClient(cmd)
	if err != nil {
		return nil, err
	}
	limit := d + r.load.Timeout.Duration + 30*time.Second
	if n > 0 {
		limit = syscallPassLimit
	}
	werr := waitClient(ctx, p, limit)
	if werr != nil {
		werr = fmt.Errorf("loadgen: %w%s", werr, logTail(logf))
		if ctx.Err() != nil {
			return nil, werr
		}
	}
	res, err := results.Read(out)
	if err != nil {
		if werr != nil {
			return nil, werr
		}
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	return res, werr
}

// clientArgs are loadgen's arguments for a run of d, or of n requests
// when n is positive, writing its document to out.
func (r *runner) clientArgs(cr *cellRun, d time.Duration, n int64, out string) []string {
	l := r.load
	args := []string{fmt.Sprintf("http://%s%s", cr.srv.addr, cr.target)}
	if cr.mpath != "" {
		args = append(args, "--manifest", cr.mpath)
	}
	length := []string{"--duration", d.String()}
	if n > 0 {
		length = []string{"--requests", strconv.FormatInt(n, 10)}
	}
	args = append(args, "--connections", strconv.Itoa(cr.conns), "--threads", strconv.Itoa(l.Threads))
	args = append(append(args, length...), "--warmup", "0s", "--requests-per-conn", strconv.Itoa(l.RequestsPerConn),
		"--timeout", l.Timeout.String(), "--output", out)
	if l.ThinkTime.Duration > 0 {
		args = append(args, "--think-time", l.ThinkTime.String())
	}
	if l.RatePerConnRPS > 0 {
		args = append(args, "--rate", strconv.FormatFloat(l.RatePerConnRPS*float64(cr.conns), 'f', -1, 64))
	}
	return args
}

// waitClient waits for the client to exit; on cancellation it interrupts
// it (SIGINT: it writes its partial result) and kills it if it lingers.
func waitClient(ctx context.Context, p topology.Process, limit time.Duration) error {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-p.Done():
		return p.Err()
	case <-ctx.Done():
		p.Signal(syscall.SIGINT)
	case <-timer.C:
		p.Kill()
		<-p.Done()
		return fmt.Errorf("still running after %v, killed", limit)
	}
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		p.Kill()
		<-p.Done()
	}
	return errors.New("interrupted")
}

// peakSampler samples a process tree's summed VmHWM while a trial runs,
// and keeps the last usage it read: all that is known of a server that
// exits during the trial.
type peakSampler struct {
	stopc chan struct{}
	wg    sync.WaitGroup
	peak  int64
	last  topology.Usage
}

func startPeakSampler(p topology.Process, initial topology.Usage) *peakSampler {
	s := &peakSampler{stopc: make(chan struct{}), peak: initial.HWMBytes, last: initial}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		every(200*time.Millisecond, s.stopc, func() {
			if u, err := p.Usage(); err == nil {
				s.peak = max(s.peak, u.HWMBytes)
				s.last = u
			}
		})
	}()
	return s
}

// every calls fn every d until stop is closed.
func every(d time.Duration, stop <-chan struct{}, fn func()) {
	tick := time.NewTicker(d)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			fn()
		}
	}
}

// stop ends the sampling and returns the peak and the last usage read.
func (s *peakSampler) stop() (int64, topology.Usage) {
	close(s.stopc)
	s.wg.Wait()
	return s.peak, s.last
}
