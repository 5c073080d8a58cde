package soak

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"flashbench/results"
	"flashbench/results/schematest"
)

// testLog sends a run's progress lines to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestSoakPasses runs the real soak, shortened, against an event-driven
// server, one with helpers and the prefork pool: it must pass, with
// every kind of fault injected and the report complete.
func TestSoakPasses(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	// The test binary carries no version-control information: the run is
	// archived as dirty, allowed.
	rep, err := Run(context.Background(), Options{BinDir: binDir, OutDir: out, FileSetDir: t.TempDir(),
		Archs: []string{"amped", "prefork", "sped"}, Duration: 20 * time.Second, Interval: 8 * time.Second,
		Warmup: 2 * time.Second, Seed: 3, Log: testLog{t}, Archive: out, AllowDirty: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed {
		t.Fatalf("got failures %q, want none", rep.Failures)
	}
	for _, a := range rep.Archs {
		if a.Requests == 0 || a.Start.FDsCore == 0 || a.End.RSSAnonCoreBytes == 0 || a.FaultsInjected == 0 {
			t.Errorf("%s: got requests %d, fds %d, anon RSS %d, faults %d; want each above 0",
				a.Arch, a.Requests, a.Start.FDsCore, a.End.RSSAnonCoreBytes, a.FaultsInjected)
		}
		if a.Shutdown == nil || a.Shutdown.InFlight != 2 || a.Shutdown.Completed != 2 {
			t.Errorf("%s: got shutdown %+v, want 2 of 2 requests in flight completed", a.Arch, a.Shutdown)
		}
	}
	checkKinds(t, rep)
	checkFiles(t, out, rep)
}

// checkKinds checks that every kind of fault was injected, and acted on.
func checkKinds(t *testing.T, rep *Report) {
	t.Helper()
	acted := map[string]bool{}
	for _, f := range rep.Faults {
		acted[f.Kind] = acted[f.Kind] || !f.Skipped
	}
	kinds := []string{FaultShutdown}
	for _, k := range faultKinds {
		kinds = append(kinds, k.name)
	}
	for _, k := range kinds {
		if !acted[k] {
			t.Errorf("fault %s: not injected or always skipped; faults: %+v", k, rep.Faults)
		}
	}
}

// checkFiles checks soak.json, soak.md and the interval documents.
func checkFiles(t *testing.T, out string, rep *Report) {
	t.Helper()
	var doc struct {
		SchemaVersion int  `json:"schema_version"`
		Passed        bool `json:"passed"`
		Archs         []struct {
			Arch     string         `json:"arch"`
			Requests int64          `json:"requests_total"`
			Errors   map[string]any `json:"errors"`
			Start    map[string]any `json:"start"`
			End      map[string]any `json:"end"`
		} `json:"archs"`
		Faults  []map[string]any `json:"faults"`
		Results ResultsCheck     `json:"results"`
	}
	data, err := os.ReadFile(filepath.Join(out, "soak.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("soak.json: %v", err)
	}
	if doc.SchemaVersion != SchemaVersion || !doc.Passed || len(doc.Archs) != 3 || len(doc.Faults) != len(rep.Faults) {
		t.Errorf("soak.json: got version %d, passed %v, %d archs, %d faults; want %d, true, 3, %d",
			doc.SchemaVersion, doc.Passed, len(doc.Archs), len(doc.Faults), SchemaVersion, len(rep.Faults))
	}
	for _, a := range doc.Archs {
		for _, key := range []string{"fds_core", "rss_anon_core_bytes", "processes", "zombies"} {
			if _, ok := a.End[key]; !ok || a.Start[key] == nil {
				t.Errorf("soak.json %s: start or end has no %s", a.Arch, key)
			}
		}
		if _, ok := a.Errors["checksum_mismatch"]; !ok || a.Requests == 0 {
			t.Errorf("soak.json %s: got requests %d, errors %v", a.Arch, a.Requests, a.Errors)
		}
	}
	rc := doc.Results
	if rc.IntervalFiles < 6 || rc.FilesReadBack != rc.IntervalFiles || rc.RequestsReadBack != rc.RequestsCounted || len(rc.Lost) != 0 {
		t.Errorf("results: got %+v, want at least 6 interval files, all read back with the counted requests", rc)
	}
	files, _ := filepath.Glob(filepath.Join(out, "intervals", "*", "*.json"))
	if len(files) != rc.IntervalFiles {
		t.Errorf("got %d interval files on disk, want %d", len(files), rc.IntervalFiles)
	}
	md, err := os.ReadFile(filepath.Join(out, "soak.md"))
	if err != nil || !strings.Contains(string(md), "| arch | requests | errors by class |") ||
		!strings.Contains(string(md), "build: unknown, DIRTY: ") || !strings.Contains(string(md), "host: over ") {
		t.Errorf("soak.md: got %v, want the per-architecture table, the build and the host load\n%s", err, md)
	}
	checkSchemas(t, out, files)
	checkProvenance(t, rep, files)
}

// checkSchemas validates soak.json, every interval and every server's
// stats file against their schemas.
func checkSchemas(t *testing.T, out string, intervals []string) {
	t.Helper()
	stats, _ := filepath.Glob(filepath.Join(out, "servers", "*.stats.json"))
	if len(stats) == 0 {
		t.Errorf("no server stats file in %s", filepath.Join(out, "servers"))
	}
	for _, f := range []struct {
		schema string
		paths  []string
	}{
		{schematest.Soak, []string{filepath.Join(out, "soak.json")}},
		{schematest.Result, intervals},
		{schematest.Stats, stats},
	} {
		for _, p := range f.paths {
			if err := schematest.ValidateFile(f.schema, p); err != nil {
				t.Error(err)
			}
		}
	}
}

// checkProvenance checks that the report and every interval carry the
// run's provenance, its build marked dirty (the test binary carries no
// version-control information), and that an interval omits what it did
// not measure: the server's CPU and memory, the shared client's CPU.
func checkProvenance(t *testing.T, rep *Report, intervals []string) {
	t.Helper()
	p := rep.Provenance
	if p == nil || p.GitCommit != results.RevisionUnknown || !p.Dirty || p.Topology != results.TopologyLocal || len(p.Sysctls) == 0 {
		t.Fatalf("soak.json provenance: got %+v, want git_commit unknown, dirty, local, sysctls", p)
	}
	for _, name := range []string{"harness", "webserver", "cgi-bin/dyn", "cgi-bin/adrot", "cgi-bin/page"} {
		if b, ok := p.Binaries[name]; !ok || b.GoVersion == "" {
			t.Errorf("soak.json provenance: got binary %s %+v (recorded %t), want it with its Go version", name, b, ok)
		}
	}
	if rep.HostLoad == nil || rep.HostLoadIntervals != len(intervals) {
		t.Errorf("soak.json: got host_load %v over %d intervals, want it over %d", rep.HostLoad, rep.HostLoadIntervals, len(intervals))
	}
	for _, path := range intervals {
		r, err := results.Read(path)
		if err != nil {
			t.Error(err)
			continue
		}
		s := r.Server
		if r.Provenance.GitCommit != p.GitCommit || !r.Provenance.Dirty || len(r.Provenance.Binaries) != len(p.Binaries) {
			t.Errorf("%s: got provenance %+v, want the run's", path, r.Provenance)
		}
		if s.CPUUserS != nil || s.CPUSystemS != nil || s.PeakRSSBytes != nil || r.Client != nil || r.HostLoad == nil {
			t.Errorf("%s: got server cpu %v, %v, rss %v, client %v, host_load %v; want the first four omitted, host_load measured",
				path, s.CPUUserS, s.CPUSystemS, s.PeakRSSBytes, r.Client, r.HostLoad)
		}
	}
}

// TestSoakRefusesDirtyArchive: a run of a build that is not clean (a
// test binary's) is refused in the archive, before anything starts.
func TestSoakRefusesDirtyArchive(t *testing.T) {
	archive := t.TempDir()
	_, err := Run(context.Background(), Options{BinDir: binDir, OutDir: filepath.Join(archive, "soak", "x"),
		FileSetDir: t.TempDir(), Archive: archive})
	if err == nil || !strings.HasPrefix(err.Error(), "soak: refusing to archive into "+archive+" a run whose build is not clean") ||
		!strings.Contains(err.Error(), "--allow-dirty") {
		t.Errorf("got %v, want a refusal naming the archive and --allow-dirty", err)
	}
	if entries, _ := os.ReadDir(archive); len(entries) != 0 {
		t.Errorf("archive: got %d entries, want none written", len(entries))
	}
}

// TestSoakFails runs the soak against stand-in servers: one that leaks a
// descriptor per request, one that is killed outright during the load
// (and whose interval documents are then deleted or cut short), and a
// healthy one. The first two must fail for those reasons, the third pass.
func TestSoakFails(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	o := Options{BinDir: fakeBin(t, "sped=leak"), OutDir: out, FileSetDir: t.TempDir(),
		Archs: []string{"sped", "threaded", "nethttp"}, Duration: 10 * time.Second, Interval: 4 * time.Second,
		Warmup: 2 * time.Second, Seed: 5, Log: testLog{t}, settleEnd: 3 * time.Second}
	killed := make(chan error, 1)
	o.onLoad = func(pids map[string]int) {
		go func() {
			time.Sleep(3 * time.Second)
			killed <- syscall.Kill(pids["threaded"], syscall.SIGKILL)
		}()
	}
	o.beforeReport = func(dir string) {
		os.Remove(filepath.Join(dir, "threaded", "conn-000.json"))
		os.Truncate(filepath.Join(dir, "threaded", "keepalive-000.json"), 100)
	}
	rep, err := Run(context.Background(), o)
	if kerr := <-killed; kerr != nil {
		t.Fatalf("kill threaded: %v", kerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"sped":     {"descriptors (cached files aside) grew"},
		"threaded": {"crashed: the server exited", "result lost: conn interval 0", "result lost: keepalive interval 0"},
		"nethttp":  nil,
	}
	for _, a := range rep.Archs {
		for _, w := range want[a.Arch] {
			if !slices.ContainsFunc(a.Failures, func(f string) bool { return strings.Contains(f, w) }) {
				t.Errorf("%s: got failures %q, want one containing %q", a.Arch, a.Failures, w)
			}
		}
		if passed := want[a.Arch] == nil; a.Passed != passed {
			t.Errorf("%s: got passed %v (failures %q), want %v", a.Arch, a.Passed, a.Failures, passed)
		}
	}
	if rep.Passed || len(rep.Results.Lost) != 2 {
		t.Errorf("got passed %v with lost results %q, want a failed run with 2 lost", rep.Passed, rep.Results.Lost)
	}
}
