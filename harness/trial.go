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

	"flashbench/results"
)

// trial measures trial t of a cell: the server's CPU time is taken from
// /proc before and after the client's run, its peak memory sampled while
// it runs, its stats file read after it.
func (r *runner) trial(ctx context.Context, cr *cellRun, t int) PointEntry {
	c := cr.c
	p := PointEntry{ID: c.PointID(t), Arch: c.Arch, Params: c.Params(), Trial: t, Status: StatusFailed}
	before, err := cr.srv.proc.Usage()
	if err != nil {
		p.Reason = "server: " + err.Error()
		return p
	}
	peak := startPeakSampler(cr.srv.proc, before.HWMBytes)
	res, err := r.runClient(ctx, cr, r.load.Duration.Duration, p.ID)
	hwm := peak.stop()
	if ctx.Err() != nil {
		p.Reason = "run interrupted"
		return p
	}
	if err != nil {
		p.Reason = err.Error()
		return p
	}
	after, err := cr.srv.proc.Usage()
	if err != nil {
		p.Reason = "server exited during the measurement" + logTail(cr.srv.log)
		return p
	}
	res.Server = results.Server{Arch: c.Arch, CPUUserS: (after.User - before.User).Seconds(),
		CPUSystemS: (after.System - before.System).Seconds(), PeakRSSBytes: max(hwm, after.HWMBytes),
		Stats: cr.srv.readStats()}
	r.annotate(res, cr, t, p.ID)
	p.Status, p.Reason = StatusOK, failReason(res, r.load)
	if p.Reason != "" {
		p.Status = StatusFailed
	}
	p.Result = p.ID + ".json"
	if err := results.Write(filepath.Join(r.dir, p.Result), res); err != nil {
		p.Status, p.Reason, p.Result = StatusFailed, err.Error(), ""
		return p
	}
	r.out.Results[p.ID] = res
	return p
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
	case res.Client.Saturated && !l.AllowSaturatedClient:
		return fmt.Sprintf("client saturated (cpu %.0f%%): the client, not the server, may have been the bottleneck",
			100*res.Client.CPUUtilization)
	}
	return ""
}

// annotate adds the harness's provenance and the point's parameters.
func (r *runner) annotate(res *results.Result, cr *cellRun, t int, id string) {
	res.Provenance = r.prov
	res.Config.WarmupS = cr.warmup.Seconds()
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
// for d and returns its result document.
func (r *runner) runClient(ctx context.Context, cr *cellRun, d time.Duration, name string) (*results.Result, error) {
	out := filepath.Join(r.work, name+".json")
	defer os.Remove(out)
	l := r.load
	args := []string{fmt.Sprintf("http://%s%s", cr.srv.addr, cr.target)}
	if cr.mpath != "" {
		args = append(args, "--manifest", cr.mpath)
	}
	args = append(args, "--connections", strconv.Itoa(cr.conns), "--threads", strconv.Itoa(l.Threads),
		"--duration", d.String(), "--warmup", "0s", "--requests-per-conn", strconv.Itoa(l.RequestsPerConn),
		"--timeout", l.Timeout.String(), "--output", out)
	if l.ThinkTime.Duration > 0 {
		args = append(args, "--think-time", l.ThinkTime.String())
	}
	if l.RatePerConnRPS > 0 {
		args = append(args, "--rate", strconv.FormatFloat(l.RatePerConnRPS*float64(cr.conns), 'f', -1, 64))
	}
	logf, err := os.Create(filepath.Join(r.work, name+".log"))
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	defer logf.Close()
	p, err := r.o.Topology.StartClient(Command{Path: filepath.Join(r.o.BinDir, "loadgen"), Args: args, Stdout: logf, Stderr: logf})
	if err != nil {
		return nil, err
	}
	if err := waitClient(ctx, p, d+l.Timeout.Duration+30*time.Second); err != nil {
		return nil, fmt.Errorf("loadgen: %w%s", err, logTail(logf))
	}
	res, err := results.Read(out)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	return res, nil
}

// waitClient waits for the client to exit; on cancellation it interrupts
// it (SIGINT: it writes its partial result) and kills it if it lingers.
func waitClient(ctx context.Context, p Process, limit time.Duration) error {
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

// peakSampler samples a process tree's summed VmHWM while a trial runs.
type peakSampler struct {
	stopc chan struct{}
	wg    sync.WaitGroup
	peak  int64
}

func startPeakSampler(p Process, initial int64) *peakSampler {
	s := &peakSampler{stopc: make(chan struct{}), peak: initial}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.stopc:
				return
			case <-tick.C:
				if u, err := p.Usage(); err == nil {
					s.peak = max(s.peak, u.HWMBytes)
				}
			}
		}
	}()
	return s
}

func (s *peakSampler) stop() int64 {
	close(s.stopc)
	s.wg.Wait()
	return s.peak
}
