package harness_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"flashbench/harness"
	"flashbench/harness/harnesstest"
	"flashbench/results"
	"flashbench/results/schematest"
)

func execute(t *testing.T, experiment string) (*harness.Outcome, *bytes.Buffer) {
	t.Helper()
	e, err := harness.ReadExperiment(filepath.Join("testdata", experiment+".toml"))
	if err != nil {
		t.Fatal(err)
	}
	topo := harnesstest.NewLocal(t)
	var log bytes.Buffer
	out, err := harness.Execute(context.Background(), harness.Options{Experiment: e, Topology: topo, BinDir: binDir,
		OutDir: t.TempDir(), FileSetDir: worldReadableTempDir(t), Quick: true, Log: &log})
	if err != nil {
		t.Fatalf("Execute: %v\n%s", err, log.String())
	}
	if left := processesFrom(t, binDir); len(left) > 0 {
		t.Errorf("got processes %v left behind, want none", left)
	}
	return out, &log
}

func TestExecuteQuick(t *testing.T) {
	out, log := execute(t, "quick")
	ix, err := harness.ReadIndex(out.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Experiment != "quick" || ix.Interrupted || ix.Topology != "local" || ix.FinishedAt.IsZero() ||
		!strings.Contains(ix.ExperimentFile, `name = "quick"`) {
		t.Errorf("got index %+v, want quick, not interrupted, local, finished, with its file", ix)
	}
	if ix.Provenance == nil {
		t.Errorf("run.json: got no provenance, want the run's")
	} else {
		checkBuild(t, *ix.Provenance, "run.json")
	}
	if err := schematest.ValidateFile(schematest.Run, filepath.Join(out.Dir, "run.json")); err != nil {
		t.Error(err)
	}
	want := map[string]string{
		"sped-file_size_bytes=500-trial=1": harness.StatusOK, "null-file_size_bytes=500-trial=1": harness.StatusOK,
		"nosucharch-file_size_bytes=500-trial=1": harness.StatusSkipped, "sped-file_size_bytes=2000-trial=1": harness.StatusOK,
		"null-file_size_bytes=2000-trial=1": harness.StatusOK, "nosucharch-file_size_bytes=2000-trial=1": harness.StatusSkipped,
	}
	if len(ix.Points) != len(want) {
		t.Fatalf("got %d points, want %d\n%s", len(ix.Points), len(want), log)
	}
	cpu := 0.0
	for _, p := range ix.Points {
		if p.Status != want[p.ID] {
			t.Errorf("point %s: got status %s (%s), want %s", p.ID, p.Status, p.Reason, want[p.ID])
			continue
		}
		if p.Status != harness.StatusOK {
			if p.Reason == "" {
				t.Errorf("point %s: got no reason for %s", p.ID, p.Status)
			}
			continue
		}
		checkPointResult(t, out.Dir, p)
		if sv := out.Results[p.ID].Server; sv.CPUUserS != nil && sv.CPUSystemS != nil {
			cpu += *sv.CPUUserS + *sv.CPUSystemS
		}
	}
	if cpu <= 0 {
		t.Errorf("got server CPU %v s over all points, want > 0", cpu)
	}
	var sum bytes.Buffer
	if err := harness.WriteSummary(&sum, quickExperiment(t), out); err != nil {
		t.Fatal(err)
	}
	lines := []string{"file_size_bytes=500", "file_size_bytes=2000", "sped", "nosucharch", "skipped", "srv µs/req", "cli %", "bound",
		"build: unknown, DIRTY: ", "harness, loadgen", "no version-control information", "host: over 4 measurements, load average (1 min) up to "}
	if _, err := harness.CPUControllerVersion(); err == nil {
		lines = append(lines, "server CPU budget 0.3 cores per 10 ms period: a request may wait up to 7.0 ms")
	}
	for _, s := range lines {
		if !strings.Contains(sum.String(), s) {
			t.Errorf("summary lacks %q:\n%s", s, sum.String())
		}
	}
}

func quickExperiment(t *testing.T) *harness.Experiment {
	e, err := harness.ReadExperiment(filepath.Join("testdata", "quick.toml"))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// checkPointResult reads a point's document and checks what the harness
// adds to the load generator's: server usage, provenance and parameters.
func checkPointResult(t *testing.T, dir string, p harness.PointEntry) {
	t.Helper()
	r, err := results.Read(filepath.Join(dir, p.Result))
	if err != nil {
		t.Errorf("point %s: %v", p.ID, err)
		return
	}
	if err := schematest.ValidateFile(schematest.Result, filepath.Join(dir, p.Result)); err != nil {
		t.Errorf("point %s: %v", p.ID, err)
	}
	if stats, err := json.Marshal(r.Server.Stats); err != nil || schematest.Validate(schematest.Stats, stats) != nil {
		t.Errorf("point %s: server.stats: %v, %v", p.ID, err, schematest.Validate(schematest.Stats, stats))
	}
	if r.Server.Arch != p.Arch || r.RequestsTotal == 0 || r.ErrorsTotal != 0 {
		t.Errorf("point %s: got arch %q, %d requests, %d errors; want %s, > 0, 0", p.ID, r.Server.Arch, r.RequestsTotal, r.ErrorsTotal, p.Arch)
	}
	// CPU time comes in 10 ms ticks: a short point may see none, but it
	// was measured: the keys are there.
	if sv := r.Server; sv.CPUUserS == nil || sv.CPUSystemS == nil || sv.PeakRSSBytes == nil || *sv.PeakRSSBytes <= 0 {
		t.Errorf("point %s: got server cpu %v+%v s, peak rss %v; want measured, rss > 0", p.ID, sv.CPUUserS, sv.CPUSystemS, sv.PeakRSSBytes)
	}
	if r.Client == nil || r.HostLoad == nil {
		t.Errorf("point %s: got client %v, host_load %v; want both measured", p.ID, r.Client, r.HostLoad)
	}
	if len(r.Server.Stats) == 0 {
		t.Errorf("point %s: got no server stats", p.ID)
	}
	if b := r.Budget; b == nil {
		t.Errorf("point %s: got no budget section", p.ID)
	} else if _, err := harness.CPUControllerVersion(); err == nil && (b.ServerCPUCores != harness.DefaultServerCPU ||
		b.PeriodUS != 10000 || b.CgroupVersion == 0 || b.UnbudgetedReason != "" || b.ServerCPUS <= 0 || b.ServerCPUPerRequestUS <= 0 || b.Periods <= 0) {
		t.Errorf("point %s: got budget %+v, want %v cores, a 10 ms period, a cgroup version, no reason, CPU time and periods", p.ID, *b, harness.DefaultServerCPU)
	}
	if r.Bound == nil || !slices.Contains(results.BoundVerdicts, r.Bound.Verdict) || r.Bound.Reason == "" {
		t.Errorf("point %s: got bound %+v, want a verdict and its reason", p.ID, r.Bound)
	}
	pv := r.Provenance
	if pv.Topology != "local" || len(pv.CorePinning.ServerCPUs) == 0 || pv.GitCommit == "" || len(pv.Sysctls) == 0 {
		t.Errorf("point %s: got provenance %+v, want local, pinned, a commit, sysctls", p.ID, pv)
	}
	checkBuild(t, pv, "point "+p.ID)
	x := r.Config.Extra
	params, _ := x["params"].(map[string]any)
	if x["experiment"] != "quick" || x["arch"] != p.Arch || x["point"] != p.ID || params["file_size_bytes"] != p.Params["file_size_bytes"] {
		t.Errorf("point %s: got extra %v, want experiment, arch, point and params", p.ID, x)
	}
}

// checkBuild checks a test run's build provenance: the harness is a test
// binary, so the commit is unknown and every document marked dirty; the
// programs of binDir are recorded with their paths.
func checkBuild(t *testing.T, pv results.Provenance, what string) {
	t.Helper()
	if pv.GitCommit != results.RevisionUnknown || pv.GitModified == nil || !pv.Dirty || pv.Clean() {
		t.Errorf("%s: got git_commit %q, git_modified %v, dirty %t; want unknown, present, dirty", what, pv.GitCommit, pv.GitModified, pv.Dirty)
	}
	if h := pv.Binaries["harness"]; h.VCSRevision != results.RevisionUnknown || h.GoVersion == "" {
		t.Errorf("%s: got harness binary %+v, want revision unknown (a test binary), a Go version", what, h)
	}
	for _, name := range harness.Programs {
		if b, ok := pv.Binaries[name]; !ok || b.Path != filepath.Join(binDir, name) || b.GoVersion == "" || b.VCSRevision == "" {
			t.Errorf("%s: got binary %s %+v (recorded %t), want %s with a Go version and a revision", what, name, b, ok, filepath.Join(binDir, name))
		}
	}
}

// TestExecuteBadOverrides checks that overrides out of range are refused
// before anything runs or is written, not ignored.
func TestExecuteBadOverrides(t *testing.T) {
	topo := harnesstest.NewLocal(t)
	tests := []struct {
		name string
		set  func(o *harness.Options)
		want string
	}{
		{"negative trials", func(o *harness.Options) { o.Trials = -1 }, "want none negative"},
		{"negative duration", func(o *harness.Options) { o.Duration = -time.Second }, "want none negative"},
		{"negative warm-up", func(o *harness.Options) { o.Warmup = -time.Millisecond }, "want none negative"},
		{"too many trials", func(o *harness.Options) { o.Trials = 101 }, "trials: 101, want 1..100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Only an architecture that does not exist: a check that let the
			// value through would run nothing.
			o := harness.Options{Experiment: quickExperiment(t), Topology: topo, BinDir: binDir, OutDir: t.TempDir(),
				FileSetDir: t.TempDir(), Archs: []string{"nosucharch"}}
			tt.set(&o)
			out, err := harness.Execute(context.Background(), o)
			if out != nil || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Execute: got %v, %v; want no outcome and an error containing %q", out, err, tt.want)
			}
			if ents, _ := os.ReadDir(o.OutDir); len(ents) > 0 {
				t.Errorf("Execute: wrote %d entries into the results root, want none", len(ents))
			}
		})
	}
}

func TestExecuteServerCannotStart(t *testing.T) {
	out, log := execute(t, "badstart")
	if len(out.Index.Points) != 2 {
		t.Fatalf("got %d points, want 2 (2 archs x 1 quick trial)\n%s", len(out.Index.Points), log)
	}
	for _, p := range out.Index.Points {
		if p.Status != harness.StatusFailed || !strings.Contains(p.Reason, "start") || p.Result != "" {
			t.Errorf("point %s: got %s %q result %q, want failed saying the server did not start", p.ID, p.Status, p.Reason, p.Result)
		}
	}
	ix, err := harness.ReadIndex(out.Dir)
	if err != nil || len(ix.Points) != 2 {
		t.Errorf("run.json: got %v, %v; want 2 points", ix, err)
	}
}

func TestExecuteCGI(t *testing.T) {
	out, log := execute(t, "cgi")
	ix, err := harness.ReadIndex(out.Dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"amped-file_size_bytes=500-trial=1": harness.StatusOK, "flashlite-file_size_bytes=500-trial=1": harness.StatusOK,
		"nginx-file_size_bytes=500-trial=1": harness.StatusSkipped, "amped-file_size_bytes=20480-trial=1": harness.StatusOK,
		"flashlite-file_size_bytes=20480-trial=1": harness.StatusOK, "nginx-file_size_bytes=20480-trial=1": harness.StatusSkipped,
		"flashlite-static-file_size_bytes=500-trial=1": harness.StatusOK, "flashlite-static-file_size_bytes=20480-trial=1": harness.StatusOK,
	}
	if len(ix.Points) != len(want) {
		t.Fatalf("got %d points, want %d\n%s", len(ix.Points), len(want), log)
	}
	for _, p := range ix.Points {
		if p.Status != want[p.ID] {
			t.Errorf("point %s: got status %s (%s), want %s\n%s", p.ID, p.Status, p.Reason, want[p.ID], log)
			continue
		}
		if p.Status == harness.StatusSkipped {
			if !strings.Contains(p.Reason, "no persistent CGI") {
				t.Errorf("point %s: got reason %q, want one saying no persistent CGI", p.ID, p.Reason)
			}
			continue
		}
		r, err := results.Read(filepath.Join(out.Dir, p.Result))
		if err != nil {
			t.Errorf("point %s: %v", p.ID, err)
			continue
		}
		v, _ := p.Params["file_size_bytes"].(float64) // run.json, read back: a JSON number
		size := int64(v)
		fs, _ := r.Config.Extra["fileset"].(map[string]any)
		// The static twin is asked for a file of the CGI response's
		// bytes, verified against them before the trial like the CGI's.
		target := fmt.Sprintf("/cgi-bin/dyn?size=%d", size)
		if strings.HasPrefix(p.ID, "flashlite-static-") {
			target = fmt.Sprintf("/dyn-%d.txt", size)
		}
		if fs["kind"] != "cgi" || fs["target"] != target {
			t.Errorf("point %s: got fileset %v, want kind cgi, target %s", p.ID, fs, target)
		}
		if r.RequestsTotal == 0 || r.ErrorsTotal != 0 {
			t.Errorf("point %s: got %d requests, %d errors; want > 0, 0", p.ID, r.RequestsTotal, r.ErrorsTotal)
		}
		// Received bytes include the headers: at least the body per request.
		if per := r.BytesPerS / r.ThroughputRPS; per < float64(size) {
			t.Errorf("point %s: got %.0f bytes per request, want at least %d", p.ID, per, size)
		}
	}
}

// TestExecuteServerDies kills the server of the first cell in the middle of
// its first trial: that trial is archived all the same, failed, with what
// the client saw and a note saying the server exited; the cell's second
// trial is not run; the next cell is measured as usual.
func TestExecuteServerDies(t *testing.T) {
	e, err := harness.ParseExperiment("dies.toml", []byte(`name = "dies"
description = "a server that dies during a trial"
archs = ["sped", "null"]
[fileset]
kind = "fixed"
count = 4
size_bytes = 500
[load]
connections = 2
requests_per_conn = 1
think_time = "1ms"
duration = "600ms"
allow_saturated_client = true
`))
	if err != nil {
		t.Fatal(err)
	}
	topo := harnesstest.NewLocal(t)
	killed := make(chan error, 1)
	go func() { killed <- killServerDuring("sped", "sped-trial=1.json") }()
	var log bytes.Buffer
	out, err := harness.Execute(context.Background(), harness.Options{Experiment: e, Topology: topo, BinDir: binDir,
		OutDir: t.TempDir(), FileSetDir: worldReadableTempDir(t), Trials: 2, Warmup: 100 * time.Millisecond, Log: &log})
	if err != nil {
		t.Fatalf("Execute: %v\n%s", err, log.String())
	}
	if err := <-killed; err != nil {
		t.Fatalf("killing the server: %v", err)
	}
	if left := processesFrom(t, binDir); len(left) > 0 {
		t.Errorf("got processes %v left behind, want none", left)
	}
	ix, err := harness.ReadIndex(out.Dir)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]harness.PointEntry{}
	for _, p := range ix.Points {
		byID[p.ID] = p
	}
	checkDiedPoint(t, out.Dir, byID["sped-trial=1"])
	if p := byID["sped-trial=2"]; p.Status != harness.StatusFailed || p.Result != "" || p.Reason != "not run: the server exited during trial 1" {
		t.Errorf("sped trial 2: got %+v, want failed, not run, after trial 1", p)
	}
	for _, id := range []string{"null-trial=1", "null-trial=2"} {
		if p := byID[id]; p.Status != harness.StatusOK {
			t.Errorf("%s: got %s (%s), want ok: the run goes on\n%s", id, p.Status, p.Reason, log.String())
		}
	}
}

// killServerDuring kills arch's webserver 200 ms after the client whose
// arguments hold arg has started.
func killServerDuring(arch, arg string) error {
	if waitProcess(binDir, "loadgen", arg) == 0 {
		return fmt.Errorf("no client with %s seen", arg)
	}
	time.Sleep(200 * time.Millisecond) // into the measurement
	pid := waitProcess(binDir, "webserver", arch)
	if pid == 0 {
		return fmt.Errorf("no %s webserver seen", arch)
	}
	return syscall.Kill(pid, syscall.SIGKILL)
}

// checkDiedPoint checks the point whose server was killed during it:
// failed, saying so, and archived with the client's errors and a note.
func checkDiedPoint(t *testing.T, dir string, p harness.PointEntry) {
	t.Helper()
	if p.Status != harness.StatusFailed || p.Result == "" ||
		!strings.Contains(p.Reason, "server exited during the measurement (signal: killed)") {
		t.Errorf("point %s: got %+v, want failed, archived, saying the server was killed", p.ID, p)
		return
	}
	r, err := results.Read(filepath.Join(dir, p.Result))
	if err != nil {
		t.Fatalf("point %s: %v", p.ID, err)
	}
	if r.ErrorsTotal == 0 || r.DominantError == "" || r.Server.Arch != p.Arch ||
		!strings.HasPrefix(r.Note, "the server exited during the measurement (signal: killed); ") {
		t.Errorf("point %s: got %d errors, dominant %q, arch %q, note %q; want errors, a class, %s, the exit then the client's note",
			p.ID, r.ErrorsTotal, r.DominantError, r.Server.Arch, r.Note, p.Arch)
	}
}
