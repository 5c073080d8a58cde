package soak

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"flashbench/loadgen"
	"flashbench/results"
)

// group is one client group of the load: keep-alive clients (a hundred
// requests per connection) or a connection per request (the papers'
// HTTP/1.0 style).
type group struct {
	name            string
	requestsPerConn int
}

var groups = []group{{"keepalive", 100}, {"conn", 1}}

// GroupTotals are what one client group of an architecture measured,
// summed over its intervals as they finished (in memory, independently
// of the interval files that the read-back sums).
type GroupTotals struct {
	Intervals       int            `json:"intervals"`
	Requests        int64          `json:"requests_total"`
	Bytes           int64          `json:"bytes_total"`
	AbortedRequests int64          `json:"aborted_requests"`
	Errors          results.Errors `json:"errors"`
}

// config is the load configuration of one interval of g against a.
func (r *run) config(a *archRun, g group, d time.Duration, seed uint64) (loadgen.Config, error) {
	w, err := newMixed(r.root.manifest, r.cgiReqs)
	if err != nil {
		return loadgen.Config{}, err
	}
	return loadgen.Config{URL: "http://" + a.srv.addr + "/", Connections: r.o.Connections, Threads: 1,
		Duration: d, RequestsPerConn: g.requestsPerConn, ThinkTime: r.o.ThinkTime, Timeout: requestTimeout,
		Workload: w, Verify: true, Seed: seed}, nil
}

// seed returns the load seed of interval i of group gi of a.
func (r *run) seed(a *archRun, gi, i int) uint64 {
	for k, x := range r.archs {
		if x == a {
			return r.o.Seed*1_000_003 + uint64(k)*10_007 + uint64(gi)*1009 + uint64(i)
		}
	}
	return r.o.Seed
}

// runGroup runs group g against a in intervals until the load's end,
// writing each interval as a result document.
func (r *run) runGroup(ctx context.Context, a *archRun, g group, gi int) {
	for i := 0; ctx.Err() == nil; i++ {
		d := min(r.o.Interval, time.Until(r.loadEnd))
		if d < 500*time.Millisecond {
			return
		}
		cfg, err := r.config(a, g, d, r.seed(a, gi, i))
		if err != nil {
			a.noteLoadError(err)
			return
		}
		rep, err := loadgen.Run(ctx, cfg)
		if err != nil {
			a.noteLoadError(err)
			return
		}
		r.record(a, g, i, rep)
	}
}

// noteLoadError keeps a load that could not run: a failure of the run.
func (a *archRun) noteLoadError(err error) {
	a.mu.Lock()
	a.loadErrs = append(a.loadErrs, err.Error())
	a.mu.Unlock()
}

// record adds an interval's report to the totals, keeps its seconds with
// errors for the attribution to faults, and writes it as a result
// document.
func (r *run) record(a *archRun, g group, i int, rep *loadgen.Report) {
	a.mu.Lock()
	t := a.groups[g.name]
	if t == nil {
		t = &GroupTotals{}
		a.groups[g.name] = t
	}
	t.Intervals++
	t.Requests += rep.Requests
	t.Bytes += rep.Bytes
	t.AbortedRequests += rep.Aborted
	t.Errors.Merge(rep.Errors.Result())
	base := rep.StartedAt.Add(rep.Config.Warmup)
	for _, iv := range rep.Intervals {
		if iv.Counts.Errors.Total() > 0 {
			from := base.Add(iv.Start)
			a.errSeconds = append(a.errSeconds, errSecond{from: from, to: from.Add(max(iv.Length, time.Second)), errs: iv.Counts.Errors})
		}
	}
	a.mu.Unlock()
	rec := &intervalRecord{arch: a.spec.name, group: g.name, index: i,
		path:     filepath.Join(r.intervalsDir, a.spec.name, fmt.Sprintf("%s-%03d.json", g.name, i)),
		requests: rep.Requests, errors: rep.Errors.Result(), interrupted: rep.Interrupted}
	rec.writeErr = r.writeInterval(rec, rep)
	r.mu.Lock()
	r.records = append(r.records, rec)
	if rep.HostLoad != nil {
		r.hostLoad = results.WorstHostLoad(r.hostLoad, rep.HostLoad)
		r.hostLoads++
	}
	r.mu.Unlock()
}

// writeInterval writes an interval's report as a result document.
func (r *run) writeInterval(rec *intervalRecord, rep *loadgen.Report) error {
	res, err := rep.Result(loadgen.Paths{Manifest: r.root.manifestPath})
	if err != nil {
		return err
	}
	res.Server.Arch = rec.arch
	res.Provenance = r.prov
	res.Config.Extra["soak_group"] = rec.group
	res.Config.Extra["soak_interval"] = rec.index
	res.Config.Extra["soak_seed"] = r.o.Seed
	// The load generators of every architecture share this process: its
	// CPU use is the whole soak's, not this interval's, so the interval
	// has no client figures; nor is the server's CPU use measured per
	// interval (the report's samples watch its processes).
	res.Client = nil
	res.Config.Extra["client_cpu_shared"] = true
	return results.Write(rec.path, res)
}

// warmupAll checks one response of each CGI program on every server and
// runs the verified load for the warm-up, whose errors fail the run.
func (r *run) warmupAll(ctx context.Context) {
	r.eachArch(func(a *archRun) {
		if err := checkCGI(ctx, a.srv.addr, r.cgiReqs); err != nil {
			a.noteLoadError(fmt.Errorf("warm-up: %w", err))
		}
		var wg sync.WaitGroup
		for gi, g := range groups {
			wg.Go(func() {
				cfg, err := r.config(a, g, r.o.Warmup, r.seed(a, gi, 1<<20))
				if err == nil {
					var rep *loadgen.Report
					if rep, err = loadgen.Run(ctx, cfg); err == nil {
						a.mu.Lock()
						a.warmup.Requests += rep.Requests
						for c, n := range rep.Errors {
							a.warmup.Errors[c] += n
						}
						a.mu.Unlock()
					}
				}
				if err != nil {
					a.noteLoadError(fmt.Errorf("warm-up: %w", err))
				}
			})
		}
		wg.Wait()
	})
}
