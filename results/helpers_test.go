package results_test

import (
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"flashbench/results"
)

// newHistogram returns a histogram as the load generator keeps them: 1 µs to
// 60 s at 3 significant digits.
func newHistogram() *hdrhistogram.Histogram { return hdrhistogram.New(1, 60_000_000, 3) }

// recordSpread records n pseudo-random values in [lo, hi) µs, the same ones
// for the same seed.
func recordSpread(t testing.TB, h *hdrhistogram.Histogram, seed uint64, n int, lo, hi int64) {
	t.Helper()
	x := seed
	for range n {
		x = x*6364136223846793005 + 1442695040888963407
		if err := h.RecordValue(lo + int64((x>>33)%uint64(hi-lo))); err != nil {
			t.Fatalf("record value: %v", err)
		}
	}
}

// sampleResultV1 returns a valid result with every key of schema version 1
// as first released set, as an open-loop run interrupted by a signal would
// write it: testdata/result_v1.json is its encoding.
func sampleResultV1(t testing.TB) *results.Result {
	t.Helper()
	total, connect, ttfb := newHistogram(), newHistogram(), newHistogram()
	recordSpread(t, total, 1, 4000, 150, 25_000)
	recordSpread(t, connect, 2, 4000, 20, 400)
	recordSpread(t, ttfb, 3, 4000, 100, 20_000)
	uncorrected := newHistogram()
	recordSpread(t, uncorrected, 4, 4000, 120, 15_000)

	r := &results.Result{
		SchemaVersion: results.SchemaVersion,
		Tool:          "loadgen",
		StartedAt:     time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC),
		DurationS:     7.5,
		Config: results.Config{
			Targets:         results.List[string]{"http://127.0.0.1:8080/"},
			Connections:     64,
			Threads:         2,
			DurationS:       10,
			WarmupS:         2,
			RequestsPerConn: 1,
			Pipeline:        1,
			RateRPS:         600,
			TimeoutS:        5,
			Workload:        "specweb99",
			ManifestPath:    "fileset/specweb99/manifest.json",
			TracePath:       "fileset/specweb99/trace.txt",
			Verify:          true,
			Extra:           results.Object{"arch": "amped", "trial": float64(1), "helpers": []any{float64(4)}},
		},
		Provenance: results.Provenance{
			GitCommit: "0123456789abcdef0123456789abcdef01234567",
			GoVersion: "go1.26.8",
			Kernel:    "6.8.0-45-generic",
			CPUModel:  "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz",
			CPUs:      2,
			CorePinning: results.CorePinning{
				ServerCPUs: results.List[int]{0},
				ClientCPUs: results.List[int]{1},
			},
			Topology: results.TopologyLocal,
			Hostname: "bench1",
			Sysctls:  results.Map[string]{"net.core.somaxconn": "4096", "net.ipv4.ip_local_port_range": "1024\t65535"},
		},
		Server: results.Server{
			Arch: "amped", CPUUserS: new(1.25), CPUSystemS: new(3.5), PeakRSSBytes: new(int64(48 << 20)),
			Stats: results.Object{"pathname_cache_hits": float64(3990), "helper_requests": float64(10)},
		},
		Client:            &results.Client{CPUUserS: 0.75, CPUSystemS: 1.5, CPUUtilization: 0.3, Saturated: false},
		RequestsTotal:     4000,
		ThroughputRPS:     532.6666666666666,
		ConnectionsPerS:   533.3333333333334,
		BytesPerS:         7.5e6,
		LatencyUS:         results.LatencyFrom(total),
		Interrupted:       true,
		InterruptedReason: "signal: interrupt",
		Series: results.List[results.Interval]{
			{TS: 1, Requests: 600, ThroughputRPS: 598, P99US: 21000, Errors: 2},
			{TS: 2, Requests: 601, ThroughputRPS: 600, P99US: 20800, Errors: 0},
			{TS: 2.5, Requests: 300, ThroughputRPS: 600, P99US: 19000, Errors: 3},
		},
		OpenLoop: &results.OpenLoop{
			OfferedRPS: 600, AchievedRPS: 533.3333333333334, LateSends: 17,
			UncorrectedLatencyUS: results.LatencyFrom(uncorrected),
		},
	}
	mustAdd(t, &r.Errors, results.Timeout, 3)
	mustAdd(t, &r.Errors, results.Reset, 2)
	r.ErrorsTotal = r.Errors.Total()
	for name, h := range map[string]*hdrhistogram.Histogram{
		results.HistogramTotal: total, results.HistogramConnect: connect, results.HistogramTTFB: ttfb,
		results.ClassHistogram(0): total,
	} {
		if err := r.SetHistogram(name, h); err != nil {
			t.Fatalf("set histogram %s: %v", name, err)
		}
	}
	return r
}

// sampleResult is sampleResultV1 with the optional keys added within
// version 1 set as well: an interrupted open-loop S-Client run that abandoned
// requests in flight, kept its uncorrected histogram, says what failed,
// had its files on a slow-disk model and its server on a CPU budget, on a
// loaded machine, from binaries of different builds.
// testdata/result_v1_optional.json is its encoding.
func sampleResult(t testing.TB) *results.Result {
	t.Helper()
	r := sampleResultV1(t)
	uncorrected := newHistogram()
	recordSpread(t, uncorrected, 4, 4000, 120, 15_000)
	if err := r.SetHistogram(results.HistogramUncorrected, uncorrected); err != nil {
		t.Fatalf("set histogram uncorrected: %v", err)
	}
	r.AbortedRequests = 12
	r.DominantError = r.Errors.Dominant()
	r.Note = "5 errors, 4000 responses completed, mostly timeout (3): responses took longer than the timeout"
	r.SClient = &results.SClient{OfferedConnPerS: 640.5, AchievedConnPerS: 533.3333333333334, AbortedConnects: 805}
	r.Disk = &results.Disk{Model: "slowdisk", LatencyUS: 5000, Channels: 8, Reads: 1020, ReadBytes: 66846720,
		BusyS: 5.25, MeanInFlight: 4.75, MaxInFlight: 6}
	r.HostLoad = &results.HostLoad{LoadAverage1mStart: 1.25, LoadAverage1mEnd: 3, LoadAverage1mMax: 3.5,
		LoadAverage1mMean: 2.5, CPUStealFraction: 0.015}
	// A loadgen built from a modified tree, run by a harness built from
	// another commit.
	r.Provenance.GitCommit, r.Provenance.GitModified, r.Provenance.Dirty = results.RevisionMixed, new(true), true
	r.Provenance.Binaries = results.Map[results.Binary]{
		"harness": {Path: "/usr/local/bin/harness", GoVersion: "go1.26.8", VCSRevision: "fedcba9876543210fedcba9876543210fedcba98",
			VCSModified: new(false), VCSTime: "2025-03-13T09:30:00Z"},
		"loadgen": {Path: "bin/loadgen", GoVersion: "go1.26.8", VCSRevision: "0123456789abcdef0123456789abcdef01234567",
			VCSModified: new(true), VCSTime: "2025-03-14T12:00:00Z"},
	}
	r.Provenance.Tools = results.Map[string]{"nginx": "nginx version: nginx/1.22.1"}
	r.Budget = &results.Budget{ServerCPUCores: 0.3, PeriodUS: 10000, CgroupVersion: 2, ServerCPUS: 2.2275,
		ServerCPUPerRequestUS: 556.875, ServerUtilization: 0.99, Periods: 750, ThrottledPeriods: 731, ThrottledS: 5.1}
	r.Bound = &results.Bound{Verdict: results.BoundServer, Reason: "server at 99% of its 0.3-core budget, client at 30%"}
	return r
}

func mustAdd(t testing.TB, e *results.Errors, c results.ErrorClass, n int64) {
	t.Helper()
	if err := e.Add(c, n); err != nil {
		t.Fatalf("add %s: %v", c, err)
	}
}

// minimalResult returns the smallest valid result: every collection nil.
func minimalResult() *results.Result {
	return &results.Result{
		SchemaVersion: results.SchemaVersion,
		Tool:          "loadgen",
		StartedAt:     time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
	}
}
