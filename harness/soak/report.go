package soak

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"flashbench/internal/atomicfile"
	"flashbench/results"
)

// SchemaVersion is the version of soak.json.
const SchemaVersion = 1

// Report is a soak run's outcome, written as soak.json.
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	StartedAt     time.Time `json:"started_at"`
	// DurationS is the load's planned length; ElapsedS the whole run's.
	DurationS   float64     `json:"duration_s"`
	ElapsedS    float64     `json:"elapsed_s"`
	IntervalS   float64     `json:"interval_s"`
	Seed        uint64      `json:"seed"`
	Connections int         `json:"connections_per_group"`
	ThinkTimeMS float64     `json:"think_time_ms"`
	FileSet     FileSetInfo `json:"file_set"`
	Bounds      Bounds      `json:"bounds"`
	Interrupted bool        `json:"interrupted"`
	Passed      bool        `json:"passed"`
	// Failures are the reasons the run failed, one line each, prefixed
	// with the architecture.
	Failures []string `json:"failures"`
	// Findings are the faults' own clients' departures from the expected
	// behaviour: reported, not failures.
	Findings []string     `json:"findings"`
	Archs    []ArchReport `json:"archs"`
	Faults   []Fault      `json:"faults"`
	Results  ResultsCheck `json:"results"`
	Dir      string       `json:"output_dir"`
	// Provenance is the run's machine and build, as every interval
	// document carries it. Optional: reports written before it was added
	// lack it.
	Provenance *results.Provenance `json:"provenance,omitempty"`
	// HostLoad is the intervals' host load at its worst, figure by figure
	// (results.WorstHostLoad), over HostLoadIntervals intervals; omitted
	// when none could read it.
	HostLoad          *results.HostLoad `json:"host_load,omitempty"`
	HostLoadIntervals int               `json:"host_load_intervals,omitempty"`
	byKind            map[string]int    // faults per kind, for the table
}

// FileSetInfo describes the file set every server served.
type FileSetInfo struct {
	Kind        string `json:"kind"`
	Connections int    `json:"connections"`
	Files       int    `json:"files"`
	TotalBytes  int64  `json:"total_bytes"`
	Manifest    string `json:"manifest_path"`
}

// Bounds are the verdict's limits, stated in the report.
type Bounds struct {
	FDSlack              int     `json:"fd_slack"`
	FDsPerOnDemandProc   int     `json:"fds_per_on_demand_process"`
	RSSAnonGrowthBytes   int64   `json:"rss_anon_growth_bytes"`
	RSSAnonGrowthFactor  float64 `json:"rss_anon_growth_factor"`
	ExplainGraceS        float64 `json:"explain_grace_s"`
	RequestTimeoutS      float64 `json:"request_timeout_s"`
	ServerShutdownLimitS float64 `json:"server_shutdown_timeout_s"`
}

// ArchReport is one architecture's part of the report.
type ArchReport struct {
	Arch     string   `json:"arch"`
	Passed   bool     `json:"passed"`
	Failures []string `json:"failures"`
	PID      int      `json:"pid"`
	Requests int64    `json:"requests_total"`
	Bytes    int64    `json:"bytes_total"`
	// AbortedRequests were in flight when an interval ended past its
	// drain time: neither served nor errors.
	AbortedRequests   int64                  `json:"aborted_requests"`
	Errors            results.Errors         `json:"errors"`
	ErrorsExplained   results.Errors         `json:"errors_explained"`
	ErrorsUnexplained results.Errors         `json:"errors_unexplained"`
	WarmupRequests    int64                  `json:"warmup_requests"`
	WarmupErrors      int64                  `json:"warmup_errors"`
	Groups            map[string]GroupTotals `json:"groups"`
	Start             Sample                 `json:"start"`
	End               Sample                 `json:"end"`
	FaultsInjected    int                    `json:"faults_injected"`
	FaultsByKind      map[string]int         `json:"faults_by_kind"`
	ChildExits        []ChildExit            `json:"child_exits"`
	// Shutdown is omitted when none was made (an interrupted run).
	Shutdown *Shutdown `json:"shutdown,omitempty"`
	Log      string    `json:"log_path"`
}

// ChildExit is a worker or helper that disappeared during the load.
type ChildExit struct {
	PID       int     `json:"pid"`
	Kind      string  `json:"kind"`
	AtS       float64 `json:"at_s"`
	Explained bool    `json:"explained"`
}

// report assembles the report: read-back, attribution and verdicts.
func (r *run) report(interrupted bool) *Report {
	o := r.o
	rep := &Report{SchemaVersion: SchemaVersion, StartedAt: r.startedAt, DurationS: o.Duration.Seconds(),
		IntervalS: o.Interval.Seconds(), Seed: o.Seed, Connections: o.Connections,
		ThinkTimeMS: float64(o.ThinkTime) / float64(time.Millisecond), Interrupted: interrupted,
		Failures: []string{}, Findings: []string{}, Archs: []ArchReport{}, Faults: []Fault{}, Dir: o.OutDir, byKind: map[string]int{}, Provenance: &r.prov,
		FileSet: FileSetInfo{Kind: string(r.root.manifest.Kind), Connections: FileSetConnections,
			Files: len(r.root.manifest.Files), TotalBytes: r.root.manifest.TotalBytes, Manifest: r.root.manifestPath},
		Bounds: Bounds{FDSlack: fdSlack, FDsPerOnDemandProc: fdsPerOnDemand, RSSAnonGrowthBytes: rssGrowthBytes,
			RSSAnonGrowthFactor: rssGrowthFactor, ExplainGraceS: explainGrace.Seconds(),
			RequestTimeoutS: requestTimeout.Seconds(), ServerShutdownLimitS: shutdownTimeout.Seconds()}}
	r.mu.Lock()
	defer r.mu.Unlock()
	sort.SliceStable(r.faults, func(i, j int) bool { return r.faults[i].start.Before(r.faults[j].start) })
	for _, f := range r.faults {
		rep.Faults = append(rep.Faults, *f)
		rep.byKind[f.Kind]++
		if f.Finding != "" {
			rep.Findings = append(rep.Findings, f.Arch+": "+f.Finding)
		}
	}
	rep.HostLoad, rep.HostLoadIntervals = r.hostLoad, r.hostLoads
	var lost map[string][]string
	rep.Results, lost = readBack(r.records)
	if rep.Results.RequestsReadBack != rep.Results.RequestsCounted {
		rep.Failures = append(rep.Failures, fmt.Sprintf("results: read back %d requests, counted %d",
			rep.Results.RequestsReadBack, rep.Results.RequestsCounted))
	}
	for _, a := range r.archs {
		ar := r.archReport(a, interrupted)
		for _, l := range lost[a.spec.name] {
			ar.Failures = append(ar.Failures, "result lost: "+l)
		}
		ar.Passed = len(ar.Failures) == 0
		for _, l := range ar.Failures {
			rep.Failures = append(rep.Failures, a.spec.name+": "+l)
		}
		rep.Archs = append(rep.Archs, ar)
	}
	if interrupted {
		rep.Failures = append(rep.Failures, "interrupted")
	}
	rep.Passed = len(rep.Failures) == 0
	rep.ElapsedS = time.Since(r.startedAt).Seconds()
	return rep
}

// archReport sums a's measurements and judges them.
func (r *run) archReport(a *archRun, interrupted bool) ArchReport {
	a.mu.Lock()
	defer a.mu.Unlock()
	ar := ArchReport{Arch: a.spec.name, PID: a.srv.pid, Groups: map[string]GroupTotals{}, Start: a.start, End: a.end,
		FaultsByKind: map[string]int{}, ChildExits: []ChildExit{}, Shutdown: a.shutdown,
		WarmupRequests: a.warmup.Requests, WarmupErrors: a.warmup.Errors.Total(),
		Log: filepath.Join(r.serversDir, a.spec.name+".log")}
	for name, g := range a.groups {
		ar.Groups[name] = *g
		ar.Requests += g.Requests
		ar.Bytes += g.Bytes
		ar.AbortedRequests += g.AbortedRequests
		ar.Errors.Merge(g.Errors)
	}
	ar.ErrorsExplained, ar.ErrorsUnexplained = r.attribute(a)
	for _, f := range r.faults {
		if f.Arch == a.spec.name {
			ar.FaultsInjected++
			ar.FaultsByKind[f.Kind]++
		}
	}
	for _, x := range a.exits {
		ar.ChildExits = append(ar.ChildExits, ChildExit{PID: x.pid, Kind: x.kind, AtS: r.since(x.at), Explained: r.exitExplained(a, x)})
	}
	ar.Failures = r.verdict(a, &ar, interrupted)
	if ar.Failures == nil {
		ar.Failures = []string{}
	}
	return ar
}

// write stores the report as soak.json and soak.md in dir.
func (rep *Report) write(dir string) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("soak: report: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "soak.json"), append(data, '\n')); err != nil {
		return fmt.Errorf("soak: report: %w", err)
	}
	md := []byte(rep.Markdown())
	if err := atomicfile.WriteFile(filepath.Join(dir, "soak.md"), md); err != nil {
		return fmt.Errorf("soak: report: %w", err)
	}
	return nil
}

// Kinds returns the fault kinds of the report's faults, sorted.
func (rep *Report) Kinds() []string {
	var ks []string
	for _, f := range rep.Faults {
		if !slices.Contains(ks, f.Kind) {
			ks = append(ks, f.Kind)
		}
	}
	slices.Sort(ks)
	return ks
}
