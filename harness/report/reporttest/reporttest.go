// Package reporttest writes synthetic archived harness runs, laid out and
// encoded as the harness archives real ones (run.json and one results
// document per point), for the tests of the report and compare packages
// and of the harness command.
package reporttest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"flashbench/harness/report"
	"flashbench/results"
)

// Spec describes a synthetic run.
type Spec struct {
	Experiment string
	// ExperimentFile is the experiment's TOML text stored in run.json.
	ExperimentFile string
	Archs          []string
	// Param is the swept parameter ("" for none) and Values its values.
	Param  string
	Values []float64
	Trials int
	// Failed maps point ids to the reason they failed: they are listed in
	// run.json with status failed and have no result document.
	Failed map[string]string
	// Skipped is like Failed, with status skipped.
	Skipped map[string]string
	// StopAfter, when > 0, ends the run after that many points with
	// run.json marked interrupted.
	StopAfter int
	// Scale multiplies every throughput: two runs differing only in Scale
	// differ by that factor.
	Scale float64
	// Seed varies the trial-to-trial noise, and Noise is its amplitude:
	// ±Noise of the throughput, ±3% when zero.
	Seed  uint64
	Noise float64
	// Budget, when positive, is every server's CPU budget in cores: each
	// result then has a budget section and a bound verdict, server
	// unless Bounds gives another for its point id. Without a budget the
	// results have neither, as those of runs made before budgets.
	Budget float64
	Bounds map[string]string
	// Load maps point ids to the 1-minute load average their machine
	// reached (the result's host_load): above 2, the CPUs of every
	// synthetic result, the point ran on a noisy machine.
	Load map[string]float64
	// OpenLoop makes every result an open-loop one: latency_us and the
	// total histogram corrected for coordinated omission, and beside them
	// open_loop's uncorrected latencies and histogram, a quarter as long.
	OpenLoop bool
	// Disk makes every result served from a slow device, with the
	// architecture's index plus one reads in flight on average.
	Disk bool
}

// PointID is the id of arch's trial at value of the swept parameter.
func (s Spec) PointID(arch string, value float64, trial int) string {
	if s.Param == "" {
		return fmt.Sprintf("%s-trial=%d", arch, trial)
	}
	return fmt.Sprintf("%s-%s=%s-trial=%d", arch, s.Param, strconv.FormatFloat(value, 'f', -1, 64), trial)
}

// Throughput is the synthetic requests/s of arch number archIndex at value
// in trial: architectures differ by a fixed factor, larger values are
// slower, trials differ by a few percent of deterministic noise.
func (s Spec) Throughput(archIndex int, value float64, trial int) float64 {
	scale := s.Scale
	if scale == 0 {
		scale = 1
	}
	base := 4000 * scale / (1 + float64(archIndex)*0.35)
	if s.Param != "" {
		base /= 1 + value/100_000
	}
	x := s.Seed*7919 + uint64(archIndex)*104729 + uint64(trial)*1299709 + uint64(value)
	x = x*6364136223846793005 + 1442695040888963407
	amplitude := s.Noise
	if amplitude == 0 {
		amplitude = 0.03
	}
	noise := (float64(x>>40%1000)/1000*2 - 1) * amplitude
	return base * (1 + noise)
}

// Write writes the run to dir (created if needed) and returns its index.
func Write(dir string, s Spec) (*report.Run, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("reporttest: %w", err)
	}
	start := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	run := &report.Run{SchemaVersion: report.RunSchemaVersion, Experiment: s.Experiment, StartedAt: start,
		Topology: results.TopologyLocal, ExperimentFile: s.ExperimentFile}
	values := s.Values
	if s.Param == "" {
		values = []float64{0}
	}
	n := 0
	for _, v := range values {
		for i, arch := range s.Archs {
			for trial := 1; trial <= s.Trials; trial++ {
				if s.StopAfter > 0 && n == s.StopAfter {
					run.Interrupted = true
					return run, writeRun(dir, run)
				}
				n++
				e, err := s.point(dir, i, arch, v, trial, start.Add(time.Duration(n)*time.Minute))
				if err != nil {
					return nil, err
				}
				run.Points = append(run.Points, e)
			}
		}
	}
	run.FinishedAt = start.Add(time.Duration(n+1) * time.Minute)
	return run, writeRun(dir, run)
}

// point writes one point's result document (unless it failed or was
// skipped) and returns its run.json entry.
func (s *Spec) point(dir string, archIndex int, arch string, v float64, trial int, at time.Time) (report.PointEntry, error) {
	id := s.PointID(arch, v, trial)
	params := map[string]any{}
	if s.Param != "" {
		params[s.Param] = v
	}
	e := report.PointEntry{ID: id, Arch: arch, Params: params, Trial: trial, Status: report.StatusOK}
	if reason, ok := s.Failed[id]; ok {
		e.Status, e.Reason = report.StatusFailed, reason
		return e, nil
	}
	if reason, ok := s.Skipped[id]; ok {
		e.Status, e.Reason = report.StatusSkipped, reason
		return e, nil
	}
	r, err := s.result(archIndex, arch, v, trial, at, params)
	if err != nil {
		return e, err
	}
	e.Result = id + ".json"
	if err := results.Write(filepath.Join(dir, e.Result), r); err != nil {
		return e, fmt.Errorf("reporttest: %w", err)
	}
	return e, nil
}

// result makes the synthetic result document of one point.
func (s *Spec) result(archIndex int, arch string, v float64, trial int, at time.Time, params map[string]any) (*results.Result, error) {
	const duration, clients = 10.0, 64
	rps := s.Throughput(archIndex, v, trial)
	size := v
	if s.Param != "file_size_bytes" {
		size = 6000
	}
	// Closed loop: a request's latency is about clients/throughput.
	meanUS := int64(clients / rps * 1e6)
	h := hdrhistogram.New(1, 60_000_000, 3)
	x := s.Seed + uint64(trial)*31 + uint64(archIndex)*17
	for range 2000 {
		x = x*6364136223846793005 + 1442695040888963407
		if err := h.RecordValue(meanUS/2 + int64(x>>33)%(meanUS+1)); err != nil {
			return nil, fmt.Errorf("reporttest: record latency: %w", err)
		}
	}
	r := &results.Result{
		SchemaVersion: results.SchemaVersion, Tool: "loadgen", StartedAt: at, DurationS: duration,
		Config: results.Config{
			Targets: results.List[string]{"http://127.0.0.1:8080/"}, Connections: clients, Threads: 1,
			DurationS: duration, WarmupS: 2, RequestsPerConn: 1, Pipeline: 1, TimeoutS: 5, Workload: "fixed",
			Extra: results.Object{"experiment": s.Experiment, "arch": arch, "trial": float64(trial),
				"point": s.PointID(arch, v, trial), "params": map[string]any(params)},
		},
		Provenance: results.Provenance{GoVersion: "go1.26.8", CPUs: 2, Topology: results.TopologyLocal},
		Server:     results.Server{Arch: arch, CPUUserS: new(1.0), CPUSystemS: new(2.0)},
		Client:     &results.Client{CPUUserS: 1, CPUSystemS: 1, CPUUtilization: 0.2},

		RequestsTotal:   int64(rps * duration),
		ThroughputRPS:   rps,
		ConnectionsPerS: rps,
		BytesPerS:       rps * (size + 250),
		LatencyUS:       results.LatencyFrom(h),
	}
	if load, ok := s.Load[s.PointID(arch, v, trial)]; ok {
		r.HostLoad = &results.HostLoad{LoadAverage1mStart: load, LoadAverage1mEnd: load, LoadAverage1mMax: load, LoadAverage1mMean: load}
	}
	if err := r.SetHistogram(results.HistogramTotal, h); err != nil {
		return nil, fmt.Errorf("reporttest: %w", err)
	}
	if s.Disk {
		r.Disk = &results.Disk{Model: "slowdisk", LatencyUS: 5000, Channels: 8, Reads: r.RequestsTotal, ReadBytes: r.RequestsTotal * 65536,
			BusyS: duration, MeanInFlight: float64(archIndex + 1), MaxInFlight: archIndex + 1}
	}
	if s.OpenLoop {
		if err := openLoop(r, h, rps); err != nil {
			return nil, err
		}
	}
	if s.Budget > 0 {
		// The server spends its whole budget: its cost per request is
		// what the budget allows over the throughput.
		cpu := s.Budget * duration
		r.Budget = &results.Budget{ServerCPUCores: s.Budget, PeriodUS: 10000, CgroupVersion: 1, ServerCPUS: cpu,
			ServerCPUPerRequestUS: cpu * 1e6 / float64(r.RequestsTotal), ServerUtilization: 1, Periods: 1000, ThrottledPeriods: 990, ThrottledS: 7}
		r.Bound = &results.Bound{Verdict: results.BoundServer, Reason: "server at 100% of its budget, client at 20%"}
		if v, ok := s.Bounds[s.PointID(arch, v, trial)]; ok {
			r.Bound = &results.Bound{Verdict: v, Reason: "synthetic " + v + " bound"}
		}
	}
	return r, nil
}

// openLoop makes r, whose total histogram is h, an open-loop result at
// rps: its uncorrected latencies are h's, a quarter as long.
func openLoop(r *results.Result, h *hdrhistogram.Histogram, rps float64) error {
	u := hdrhistogram.New(1, 60_000_000, 3)
	for _, b := range h.Distribution() {
		if b.Count > 0 {
			if err := u.RecordValues(max(b.From/4, 1), b.Count); err != nil {
				return fmt.Errorf("reporttest: record latency: %w", err)
			}
		}
	}
	r.Config.RateRPS = rps
	r.OpenLoop = &results.OpenLoop{OfferedRPS: rps, AchievedRPS: rps, UncorrectedLatencyUS: results.LatencyFrom(u)}
	if err := r.SetHistogram(results.HistogramUncorrected, u); err != nil {
		return fmt.Errorf("reporttest: %w", err)
	}
	return nil
}

// writeRun writes run.json.
func writeRun(dir string, run *report.Run) error {
	b, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return fmt.Errorf("reporttest: encode run.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "run.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("reporttest: %w", err)
	}
	return nil
}
