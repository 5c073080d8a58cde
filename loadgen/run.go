package loadgen

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"flashbench/internal/provenance"
	"flashbench/results"
)

// Report is the outcome of a run: counters, histograms merged over the
// workers, the per-second series and the client's own CPU use.
type Report struct {
	// Config is the configuration the run used, defaults filled in.
	Config Config
	// StartedAt is the wall-clock start of the run (warm-up included).
	StartedAt time.Time
	// Elapsed is the measured period: from the end of the warm-up to the
	// last response.
	Elapsed time.Duration
	// Counts are the totals of the measured period.
	Counts
	// Histograms are the latency distributions of the measured period.
	Histograms
	// Classes names the URL classes of Histograms.Classes.
	Classes []string
	// Intervals is the per-second series of the measured period.
	Intervals []Interval
	// Aborted counts requests still in flight when an interrupted run gave up.
	Aborted int64
	// WarmupRequests counts the requests issued during the warm-up, not
	// measured; with a trace, those of its warm-up pass.
	WarmupRequests int64
	// Interrupted reports a run stopped early by its context.
	Interrupted bool
	// InterruptedReason says why, for an interrupted run.
	InterruptedReason string
	// CPU is the client's own CPU use over the whole run.
	CPU CPUUsage
	// HostLoad is how busy the machine was during the measured period;
	// nil when it could not be read, or the run ended in its warm-up.
	HostLoad *results.HostLoad
	// LastResponse is when the last response of the measured period
	// completed, from the start of the measurement; 0 when none did.
	LastResponse time.Duration
	// Note says in one line what went wrong ("" when nothing did): the
	// dominant error class and what it suggests, or why the run could not
	// start (Unreachable).
	Note string
}

// Run generates the load cfg describes and returns what it measured. A
// cancelled ctx stops the run early: the partial report is returned, marked
// Interrupted, with a nil error. Failed requests are counted by class, never
// returned as an error; an error means the run could not start.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, t, err := cfg.prepare()
	if err != nil {
		return nil, err
	}
	for _, tg := range cfg.Workload.Targets() {
		tg.format(t.host)
	}
	rep := &Report{Config: cfg, Classes: cfg.Workload.Classes(), StartedAt: time.Now()}
	cpu0, err := clientCPU()
	if err != nil {
		return nil, err
	}
	// A worker holds a P as long as it runs: its goroutine is locked to its
	// thread and rarely yields. One P more than there are workers keeps
	// the runtime from taking a worker's P each time it waits in
	// epoll_wait, which would keep the runtime's monitor thread waking
	// every 20 µs and cost context switches on every request.
	if need := cfg.Threads + 1; runtime.GOMAXPROCS(0) < need {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(need))
	}
	base := time.Now()
	var stop atomic.Bool
	out := make(chan Interval, 256)
	workers := make([]*worker, cfg.Threads)
	for i := range workers {
		n := cfg.Connections / cfg.Threads
		if i < cfg.Connections%cfg.Threads {
			n++
		}
		workers[i] = newWorker(i, &cfg, t, base, n, out, &stop)
	}
	collected := make(chan []Interval)
	go func() { collected <- collect(out) }()
	host := provenance.StartHostLoad(cfg.Warmup)
	runWorkers(ctx, workers, &stop, &cfg, base)
	end := time.Since(base)
	rep.HostLoad = host.Stop()
	close(out)
	rep.Intervals = <-collected
	if rep.CPU, err = cpuSince(cpu0, end, cfg.Threads); err != nil {
		return nil, err
	}
	if err := rep.gather(workers, end); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		rep.Interrupted = true
		rep.InterruptedReason = fmt.Sprint(context.Cause(ctx))
	}
	rep.Note = rep.diagnose()
	return rep, nil
}

// runWorkers runs every worker to its end, stopping them all when ctx is
// done, and reports progress about once a second.
func runWorkers(ctx context.Context, workers []*worker, stop *atomic.Bool, cfg *Config, base time.Time) {
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(w.run)
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last int64
	for {
		select {
		case <-finished:
			return
		case <-ctx.Done():
			stop.Store(true)
			<-finished
			return
		case <-tick.C:
			if cfg.Progress == nil {
				continue
			}
			p := Progress{Elapsed: time.Since(base), Warmup: time.Since(base) < cfg.Warmup}
			for _, w := range workers {
				p.Requests += w.done.Load()
				p.Errors += w.failures.Load()
			}
			p.Rate = float64(p.Requests - last)
			last = p.Requests
			cfg.Progress(p)
		}
	}
}

// gather merges the workers' measurements into the report.
func (r *Report) gather(workers []*worker, end time.Duration) error {
	r.Histograms = newHistograms(len(r.Classes))
	var errs []error
	for _, w := range workers {
		if w.err != nil {
			errs = append(errs, fmt.Errorf("loadgen: worker %d: %w", w.id, w.err))
		}
		r.Histograms.merge(&w.stats.Histograms)
		r.Counts.add(&w.stats.total)
		r.Aborted += w.aborted
		r.WarmupRequests += w.warmupRequests
		if w.stats.last > 0 {
			r.LastResponse = max(r.LastResponse, time.Duration(w.stats.last)-r.Config.Warmup)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if r.Config.Arrival == ArrivalClosed {
		r.Uncorrected.Merge(r.Latency)
	}
	r.Elapsed = max(end-r.Config.Warmup, 0)
	return nil
}

// collect merges the workers' intervals second by second.
func collect(in <-chan Interval) []Interval {
	bySecond := map[time.Duration]*Interval{}
	for iv := range in {
		m := bySecond[iv.Start]
		if m == nil {
			iv.Latency = iv.Latency.Clone()
			bySecond[iv.Start] = &iv
			continue
		}
		m.Counts.add(&iv.Counts)
		m.Latency.Merge(iv.Latency)
		m.Length = max(m.Length, iv.Length)
	}
	series := make([]Interval, 0, len(bySecond))
	for _, iv := range bySecond {
		series = append(series, *iv)
	}
	sort.Slice(series, func(i, j int) bool { return series[i].Start < series[j].Start })
	return series
}

// Throughput returns complete responses per second of the measured period.
func (r *Report) Throughput() float64 { return perSecond(r.Requests, r.Elapsed) }

func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
