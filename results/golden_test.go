package results_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"flashbench/results"
)

// The golden documents: version 1 as first released, and version 1 with the
// optional keys added since.
const (
	goldenV1         = "testdata/result_v1.json"
	goldenV1Optional = "testdata/result_v1_optional.json"
)

// TestGoldenV1 reads a version 1 document written when the schema was
// introduced. It must keep decoding, to the same values, for as long as
// SchemaVersion is 1: archived results stay readable.
func TestGoldenV1(t *testing.T) {
	r, err := results.Read(goldenV1)
	if err != nil {
		t.Fatalf("Read(%s): %v", goldenV1, err)
	}
	checks := []valueCheck{
		{"tool", r.Tool, "loadgen"},
		{"started_at", r.StartedAt, time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)},
		{"duration_s", r.DurationS, 7.5},
		{"config.targets[0]", r.Config.Targets[0], "http://127.0.0.1:8080/"},
		{"config.connections", r.Config.Connections, 64},
		{"config.rate_rps", r.Config.RateRPS, 600.0},
		{"config.extra.arch", r.Config.Extra["arch"], "amped"},
		{"provenance.core_pinning.client_cpus[0]", r.Provenance.CorePinning.ClientCPUs[0], 1},
		{"provenance.sysctls", r.Provenance.Sysctls["net.core.somaxconn"], "4096"},
		{"server.peak_rss_bytes", *r.Server.PeakRSSBytes, int64(48 << 20)},
		{"server.cpu_user_s", *r.Server.CPUUserS, 1.25},
		{"server.stats", r.Server.Stats["pathname_cache_hits"], 3990.0},
		{"client.cpu_utilization", r.Client.CPUUtilization, 0.3},
		{"requests_total", r.RequestsTotal, int64(4000)},
		{"errors.timeout", r.Errors.Timeout, int64(3)},
		{"errors_total", r.ErrorsTotal, int64(5)},
		{"latency_us.p99", r.LatencyUS.P99, int64(24751)},
		{"interrupted_reason", r.InterruptedReason, "signal: interrupt"},
		{"series[2].t_s", r.Series[2].TS, 2.5},
		{"open_loop.late_sends", r.OpenLoop.LateSends, int64(17)},
		{"open_loop.uncorrected_latency_us.max", r.OpenLoop.UncorrectedLatencyUS.Max, int64(14999)},
	}
	checkValues(t, checks)
	if r.AbortedRequests != 0 || r.SClient != nil || r.Histograms[results.HistogramUncorrected] != "" ||
		r.DominantError != "" || r.Note != "" || r.Disk != nil || r.HostLoad != nil || r.Budget != nil || r.Bound != nil {
		t.Errorf("optional additions: got aborted_requests %d, sclient %+v, uncorrected histogram %t, dominant_error %q, note %q, disk %+v, host_load %+v, budget %+v, bound %+v; want none",
			r.AbortedRequests, r.SClient, r.Histograms[results.HistogramUncorrected] != "", r.DominantError, r.Note, r.Disk, r.HostLoad, r.Budget, r.Bound)
	}
	if p := r.Provenance; p.GitModified != nil || p.Dirty || p.Binaries != nil || p.Tools != nil || !p.Clean() {
		t.Errorf("provenance: got git_modified %v, dirty %t, binaries %v, tools %v, clean %t; want none of the additions, clean",
			p.GitModified, p.Dirty, p.Binaries, p.Tools, p.Clean())
	}
	total, err := r.Histogram(results.HistogramTotal)
	if err != nil {
		t.Fatal(err)
	}
	if got := total.TotalCount(); got != 4000 {
		t.Errorf("histograms.total count: got %d, want 4000", got)
	}
	if got := results.LatencyFrom(total); got != r.LatencyUS {
		t.Errorf("LatencyFrom(histograms.total): got %+v, want latency_us %+v", got, r.LatencyUS)
	}
}

// TestGoldenV1Optional reads a version 1 document that carries the
// optional keys added within version 1: aborted_requests, dominant_error,
// note, sclient, disk, host_load, budget, bound, the uncorrected
// histogram, provenance's git_modified, dirty, binaries and tools.
func TestGoldenV1Optional(t *testing.T) {
	r, err := results.Read(goldenV1Optional)
	if err != nil {
		t.Fatalf("Read(%s): %v", goldenV1Optional, err)
	}
	checks := []valueCheck{
		{"requests_total", r.RequestsTotal, int64(4000)},
		{"aborted_requests", r.AbortedRequests, int64(12)},
		{"dominant_error", r.DominantError, results.Timeout},
		{"note", r.Note, "5 errors, 4000 responses completed, mostly timeout (3): responses took longer than the timeout"},
		{"sclient.offered_conn_per_s", r.SClient.OfferedConnPerS, 640.5},
		{"sclient.achieved_conn_per_s", r.SClient.AchievedConnPerS, 533.3333333333334},
		{"sclient.aborted_connects", r.SClient.AbortedConnects, int64(805)},
		{"disk.model", r.Disk.Model, "slowdisk"},
		{"disk.latency_us", r.Disk.LatencyUS, 5000.0},
		{"disk.channels", r.Disk.Channels, 8},
		{"disk.reads", r.Disk.Reads, int64(1020)},
		{"disk.mean_in_flight", r.Disk.MeanInFlight, 4.75},
		{"disk.max_in_flight", r.Disk.MaxInFlight, 6},
		{"budget.server_cpu_cores", r.Budget.ServerCPUCores, 0.3},
		{"budget.period_us", r.Budget.PeriodUS, int64(10000)},
		{"budget.cgroup_version", r.Budget.CgroupVersion, 2},
		{"budget.server_cpu_per_request_us", r.Budget.ServerCPUPerRequestUS, 556.875},
		{"budget.throttled_periods", r.Budget.ThrottledPeriods, int64(731)},
		{"bound.verdict", r.Bound.Verdict, results.BoundServer},
		{"open_loop.uncorrected_latency_us.max", r.OpenLoop.UncorrectedLatencyUS.Max, int64(14999)},
		{"provenance.git_commit", r.Provenance.GitCommit, results.RevisionMixed},
		{"provenance.git_modified", *r.Provenance.GitModified, true},
		{"provenance.dirty", r.Provenance.Dirty, true},
		{"provenance.binaries.loadgen.vcs_revision", r.Provenance.Binaries["loadgen"].VCSRevision, "0123456789abcdef0123456789abcdef01234567"},
		{"provenance.binaries.loadgen.vcs_modified", *r.Provenance.Binaries["loadgen"].VCSModified, true},
		{"provenance.binaries.harness.vcs_revision", r.Provenance.Binaries["harness"].VCSRevision, "fedcba9876543210fedcba9876543210fedcba98"},
		{"provenance.binaries.harness.vcs_modified", *r.Provenance.Binaries["harness"].VCSModified, false},
		{"provenance.tools.nginx", r.Provenance.Tools["nginx"], "nginx version: nginx/1.22.1"},
		{"host_load.load_average_1m_max", r.HostLoad.LoadAverage1mMax, 3.5},
		{"host_load.cpu_steal_fraction", r.HostLoad.CPUStealFraction, 0.015},
	}
	checkValues(t, checks)
	if r.Provenance.Clean() {
		t.Errorf("provenance: got clean, want not clean (git_commit mixed, git_modified)")
	}
	h, err := r.Histogram(results.HistogramUncorrected)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.TotalCount(); got != 4000 {
		t.Errorf("histograms.uncorrected count: got %d, want 4000", got)
	}
	if got := results.LatencyFrom(h); got != r.OpenLoop.UncorrectedLatencyUS {
		t.Errorf("LatencyFrom(histograms.uncorrected): got %+v, want open_loop.uncorrected_latency_us %+v",
			got, r.OpenLoop.UncorrectedLatencyUS)
	}
}

// valueCheck is one decoded value and the value it must have.
type valueCheck struct {
	name      string
	got, want any
}

func checkValues(t *testing.T, checks []valueCheck) {
	t.Helper()
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v (%T), want %v (%T)", c.name, c.got, c.got, c.want, c.want)
		}
	}
}

// TestGoldenV1Encoding checks that writing what was read gives each golden
// file byte for byte: key order, indentation and number formats are stable,
// and the optional keys stay out of a document that did not have them.
func TestGoldenV1Encoding(t *testing.T) {
	for _, path := range []string{goldenV1, goldenV1Optional} {
		t.Run(path, func(t *testing.T) {
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := results.Decode(bytes.NewReader(want))
			if err != nil {
				t.Fatal(err)
			}
			got, err := results.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Marshal(Decode(%s)) differs from the file:\ngot\n%s", path, got)
			}
		})
	}
}
