package harness_test

import (
	"flag"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"flashbench/harness"
	"flashbench/harness/report"
	"flashbench/harness/report/reporttest"
	"flashbench/results"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestSummaryTargets prints the summary of a synthetic run of an
// experiment with targets and checks its targets table against
// testdata/summary_targets.stdout, and the verdicts it must show whatever
// the golden file says.
func TestSummaryTargets(t *testing.T) {
	dir := t.TempDir()
	run, err := reporttest.Write(dir, reporttest.TargetsSpec())
	if err != nil {
		t.Fatal(err)
	}
	a, err := report.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := &harness.Outcome{Dir: dir, Index: run, Results: map[string]*results.Result{}}
	for _, p := range a.Points {
		out.Results[p.ID] = p.Result
	}
	e, err := harness.ParseExperiment("targets.toml", []byte(reporttest.TargetsFile))
	if err != nil {
		t.Fatal(err)
	}
	var sum strings.Builder
	if err := harness.WriteSummary(&sum, e, out); err != nil {
		t.Fatal(err)
	}
	_, targets, ok := strings.Cut(sum.String(), "\ntargets (")
	if !ok {
		t.Fatalf("summary has no targets table:\n%s", sum.String())
	}
	targets = "targets (" + targets
	reporttest.Golden(t, filepath.Join("testdata", "summary_targets.stdout"), targets, *update)
	for _, row := range []string{
		`amped/sped +file_size_bytes=51200 +throughput \(req/s\) +>= 1\.20 +\S+ +\[\S+, \S+\] +6 +met +0`,
		`sped/nginx +file_size_bytes=51200 +throughput \(req/s\) +>= 1\.50 +\S+ +\[\S+, \S+\] +6 +not met +0`,
		`amped/sped +file_size_bytes=51200 +throughput \(req/s\) +>= 1\.35 +\S+ +\[\S+, \S+\] +6 +undecided +0`,
		`nginx/amped +file_size_bytes=500 +server CPU \(µs/req\) +<= 2\.00 +\S+ +\[\S+, \S+\] +6 +met +0`,
		`flashlite/amped +file_size_bytes=51200 +throughput \(req/s\) +>= 1\.00 +not measured +– +0 +undecided +0`,
	} {
		if !regexp.MustCompile(`(?m)^` + row).MatchString(targets) {
			t.Errorf("summary's targets lack a row matching %q:\n%s", row, targets)
		}
	}
}
