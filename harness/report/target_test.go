package report_test

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/harness/report"
	"flashbench/harness/report/reporttest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// between returns the part of s from the first start up to end (not
// included), or fails.
func between(t *testing.T, s, start, end string) string {
	t.Helper()
	_, after, ok := strings.Cut(s, start)
	if !ok {
		t.Fatalf("no %q in\n%s", start, s)
	}
	part, _, ok := strings.Cut(after, end)
	if !ok {
		t.Fatalf("no %q after %q in\n%s", end, start, s)
	}
	return start + part
}

// TestReportTargets checks the Targets section of report.md and
// report.html against golden files, and the verdicts they must show
// whatever the golden files say.
func TestReportTargets(t *testing.T) {
	dir := writeRun(t, reporttest.TargetsSpec())
	mdPath, htmlPath, err := report.Write(dir)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	md := readFile(t, mdPath)
	reporttest.Golden(t, filepath.Join("testdata", "targets.md"), between(t, md, "### Targets", "### Plots"), *update)
	reporttest.Golden(t, filepath.Join("testdata", "targets.html"), between(t, readFile(t, htmlPath), "<div><h3>Targets</h3>", "</div>"), *update)
	for _, tt := range []struct {
		first []string
		want  string
	}{
		{[]string{"amped/sped", "file_size_bytes=51200", "throughput (req/s)", ">= 1.20"}, "met"},
		{[]string{"amped/sped", "file_size_bytes=500", "throughput (req/s)", ">= 1.20"}, "undecided"}, // 5 rounds: unbounded
		{[]string{"sped/nginx", "file_size_bytes=51200", "throughput (req/s)", ">= 1.50"}, "not met"},
		{[]string{"amped/sped", "file_size_bytes=51200", "throughput (req/s)", ">= 1.35"}, "undecided"},
		{[]string{"nginx/amped", "file_size_bytes=500", "server CPU (µs/req)", "<= 2.00"}, "met"},
		{[]string{"flashlite/amped", "file_size_bytes=51200", "throughput (req/s)", ">= 1.00", "not measured"}, "undecided"},
	} {
		if got := mdRow(t, md, tt.first...); got[7] != tt.want {
			t.Errorf("target row %q: got verdict %q, want %q", tt.first, got[7], tt.want)
		}
	}
	// sped's client-bound trial at 500 B leaves it and its partner out.
	if got := mdRow(t, md, "amped/sped", "file_size_bytes=500", "throughput (req/s)", ">= 1.20"); got[6] != "5" || got[8] != "2" {
		t.Errorf("amped/sped at 500 B: got %s rounds, %s left out; want 5 and 2", got[6], got[8])
	}
}
