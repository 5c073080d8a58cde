package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"flashbench/harness"
	"flashbench/internal/provenance"
	"flashbench/results"
	"flashbench/results/schematest"
)

// buildLoadgen builds loadgen into a temporary directory and returns it.
func buildLoadgen(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", dir+"/", "flashbench/loadgen/cmd/loadgen").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// TestArchive runs a tiny comparison against a real nginx with real wrk
// and loadgen runs, and checks the archive: every run's file beside
// summary.json, the loadgen documents valid against the result schema,
// the summary's figures and ratios consistent with them.
func TestArchive(t *testing.T) {
	for _, tool := range []string{"nginx", "wrk", "taskset"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	bin, out := buildLoadgen(t), t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run([]string{"benchloadgen", "--bin", bin, "-o", out, "-c", "4", "-d", "1s",
		"--idle-connections", "20", "--idle-duration", "300ms"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("got %v (stderr %q), want nil", err, stderr.String())
	}
	dirs, _ := filepath.Glob(filepath.Join(out, "bench-loadgen", "*"))
	if len(dirs) != 1 || !strings.Contains(stdout.String(), "results: "+dirs[0]) {
		t.Fatalf("got run directories %v and stdout %q, want one, named on stdout", dirs, stdout.String())
	}
	dir := dirs[0]
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	if s.SchemaVersion != SummarySchemaVersion || s.Provenance == nil || s.Provenance.Tools["nginx"] == "" || len(s.Cases) != 4 || s.Memory == nil {
		t.Fatalf("summary: got schema %d, provenance %v, %d cases, memory %v; want %d, with nginx's version, 4, set",
			s.SchemaVersion, s.Provenance, len(s.Cases), s.Memory, SummarySchemaVersion)
	}
	for _, c := range s.Cases {
		checkRun(t, dir, c.Wrk)
		checkRun(t, dir, c.Loadgen)
		if err := schematest.ValidateFile(schematest.Result, filepath.Join(dir, c.Loadgen.File)); err != nil {
			t.Error(err)
		}
		if want := c.Loadgen.ThroughputRPS / c.Wrk.ThroughputRPS; c.ThroughputRatio != want {
			t.Errorf("%s keepalive=%v: got throughput ratio %v, want %v", c.File, c.KeepAlive, c.ThroughputRatio, want)
		}
	}
	checkRun(t, dir, s.Memory.Baseline)
	checkRun(t, dir, s.Memory.Idle)
}

// checkRun checks that a run's file is in dir and its figures are real.
func checkRun(t *testing.T, dir string, r Run) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, r.File)); r.File == "" || err != nil {
		t.Errorf("run file %q: got %v, want it in %s", r.File, err, dir)
	}
	if r.RequestsTotal <= 0 || r.ThroughputRPS <= 0 || r.CPUS <= 0 || r.PeakRSSBytes <= 0 || r.Bound.Verdict == "" {
		t.Errorf("%s: got requests %d, %v req/s, cpu %v s, rss %d, bound %q; want all positive and a verdict",
			r.File, r.RequestsTotal, r.ThroughputRPS, r.CPUS, r.PeakRSSBytes, r.Bound.Verdict)
	}
	if client := r.CPUUtilization >= harness.ClientBoundAt; client != (r.Bound.Verdict == results.BoundClient) {
		t.Errorf("%s: got bound %q with the client at %.2f of its core, want client exactly at %v or more",
			r.File, r.Bound.Verdict, r.CPUUtilization, harness.ClientBoundAt)
	}
}

func TestParseWrk(t *testing.T) {
	const out = `Running 1s test @ http://127.0.0.1:8080/500b
  1 threads and 4 connections
  1234 requests in 1.00s, 1.2MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:   1233.50
Transfer/sec:      1.2MB
`
	r, err := parseWrk(out)
	if err != nil || r.RequestsTotal != 1234 || r.ThroughputRPS != 1233.5 || r.ErrorsTotal != 9 {
		t.Errorf("got %+v, %v; want 1234 requests, 1233.5 req/s, 9 errors", r, err)
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("got nil for output without figures, want an error")
	}
}

func TestClientBound(t *testing.T) {
	tests := []struct {
		util float64
		want string
	}{{0.95, results.BoundClient}, {harness.ClientBoundAt, results.BoundClient}, {0.5, results.BoundUndecided}}
	for _, tt := range tests {
		if got := clientBound(tt.util); got.Verdict != tt.want {
			t.Errorf("clientBound(%v): got %q (%s), want %q", tt.util, got.Verdict, got.Reason, tt.want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-d", "1500ms"}, "--duration 1.5s: want whole seconds"},
		{[]string{"-c", "0"}, "--connections 0"},
		{[]string{"--idle-connections", "5"}, "--idle-connections 5"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		err := run(append([]string{"benchloadgen"}, tt.args...), &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "benchloadgen: bad usage: ") {
			t.Errorf("%v: got %v, want a usage error containing %q", tt.args, err, tt.want)
		}
	}
	err := run([]string{"benchloadgen", "--bin", t.TempDir(), "-o", t.TempDir()}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "no loadgen there") {
		t.Errorf("empty --bin: got %v, want an error naming the missing loadgen", err)
	}
}

// TestRefusesDirtyArchive runs benchloadgen, a test binary with no
// version-control information, into the checkout's results/: it must
// refuse before measuring or writing anything, unless --allow-dirty.
func TestRefusesDirtyArchive(t *testing.T) {
	archive := provenance.ArchiveDir()
	if archive == "" {
		t.Fatal("the test runs inside the checkout, but no results/ was found above it")
	}
	out := filepath.Join(archive, "benchloadgen-test-"+strconv.Itoa(os.Getpid()))
	t.Cleanup(func() { os.RemoveAll(out) })
	err := run([]string{"benchloadgen", "--bin", t.TempDir(), "-o", out}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "refusing to archive into") {
		t.Errorf("got %v, want a refusal to archive a dirty build", err)
	}
	if _, serr := os.Stat(out); !errors.Is(serr, fs.ErrNotExist) {
		t.Errorf("%s: got %v, want nothing written", out, serr)
	}
	err = run([]string{"benchloadgen", "--bin", t.TempDir(), "-o", out, "--allow-dirty"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "no loadgen there") {
		t.Errorf("--allow-dirty: got %v, want the run to go on (to the missing loadgen)", err)
	}
}
