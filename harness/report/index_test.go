package report_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"flashbench/harness/report"
	"flashbench/harness/report/reporttest"
	"flashbench/results"
)

// archivedRun writes spec's run into root/<experiment>/<timestamp>, as
// the harness archives one started at start, and lets edit change its
// run.json (provenance, finished_at) before it is written back.
func archivedRun(t *testing.T, root string, spec reporttest.Spec, start time.Time, edit func(*report.Run)) string {
	t.Helper()
	dir := filepath.Join(root, spec.Experiment, start.Format("20060102T150405Z"))
	if _, err := reporttest.Write(dir, spec); err != nil {
		t.Fatalf("write synthetic run: %v", err)
	}
	run, err := report.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	run.StartedAt = start
	if !run.FinishedAt.IsZero() {
		run.FinishedAt = start.Add(time.Hour)
	}
	if edit != nil {
		edit(run)
	}
	b, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "run.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// indexArchive is a small archive of five runs: a hotos97-like run with
// paper ratios and no provenance in run.json, a run with targets from a
// clean commit with its report written, an interrupted sweep from a
// dirty tree, a run still going, and a run.json that does not decode.
func indexArchive(t *testing.T) (root string, dirs map[string]string) {
	t.Helper()
	root = t.TempDir()
	day := func(d int) time.Time { return time.Date(2025, 3, d, 15, 9, 26, 0, time.UTC) }
	dirs = map[string]string{}
	dirs["hotos"] = archivedRun(t, root, hotosSpec(), day(10), nil)
	dirs["targets"] = archivedRun(t, root, reporttest.TargetsSpec(), day(12), func(r *report.Run) {
		r.Provenance = &results.Provenance{GitCommit: "0b70d61f071893ee7c6f85dc0b6a929e52366877", GitModified: new(false)}
	})
	if _, _, err := report.Write(dirs["targets"]); err != nil {
		t.Fatalf("Write: %v", err)
	}
	sweep := sweepSpec()
	sweep.StopAfter = 7
	dirs["sweep"] = archivedRun(t, root, sweep, day(14), func(r *report.Run) {
		r.Provenance = &results.Provenance{GitCommit: "9e7b89c3289ad95b8911c65c6a650740c31b113b", GitModified: new(true), Dirty: true}
	})
	running := reporttest.Spec{Experiment: "hotos97", Archs: []string{"amped"}, Trials: 2, Seed: 4}
	dirs["running"] = archivedRun(t, root, running, day(16), func(r *report.Run) { r.FinishedAt = time.Time{} })
	dirs["broken"] = filepath.Join(root, "specweb99", "20250311T000000Z")
	if err := os.MkdirAll(dirs["broken"], 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dirs["broken"], "run.json"), []byte("{\"schema_version\": 1,"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, dirs
}

// TestWriteIndex checks the index of a small archive: its rows newest
// first, each cell, the links, and the headline ratios against the
// per-round ratios read from the result files; then the whole files
// against golden files.
func TestWriteIndex(t *testing.T) {
	root, dirs := indexArchive(t)
	mdPath, htmlPath, err := report.WriteIndex(root)
	if err != nil {
		t.Fatalf("WriteIndex(%s): %v", root, err)
	}
	if mdPath != filepath.Join(root, "index.md") || htmlPath != filepath.Join(root, "index.html") {
		t.Errorf("WriteIndex(%s): got %s, %s; want index.md and index.html in it", root, mdPath, htmlPath)
	}
	md, page := readFile(t, mdPath), readFile(t, htmlPath)

	var order []string
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| 2025-") {
			order = append(order, strings.Split(line, " | ")[1])
		}
	}
	if want := []string{"hotos97", "single-file", "targets", "specweb99", "hotos97"}; strings.Join(order, ",") != strings.Join(want, ",") {
		t.Errorf("index.md: got experiments %q, want %q (newest first)", order, want)
	}

	tspec := reporttest.TargetsSpec()
	amped := perRoundMedian(t, dirs["targets"], tspec, "amped", "sped", 500, func(r *results.Result) float64 { return r.ThroughputRPS })
	hspec := hotosSpec()
	hotos := perRoundMedian(t, dirs["hotos"], hspec, "amped", "sped", 500, func(r *results.Result) float64 { return r.ConnectionsPerS })
	for _, tt := range []struct {
		first []string
		want  []string // commit, tree, points, headline prefix, link
	}{
		{[]string{"2025-03-16 15:09Z", "hotos97"}, []string{"–", "–", "2 of 2, unfinished", "–", "[run](hotos97/20250316T150926Z/)"}},
		{[]string{"2025-03-14 15:09Z", "single-file"}, []string{"9e7b89c", "dirty", "7 of 7, interrupted", "–", "[run](single-file/20250314T150926Z/)"}},
		{[]string{"2025-03-12 15:09Z", "targets"}, []string{"0b70d61", "clean", "36 of 36",
			"amped/sped " + strconv.FormatFloat(amped, 'f', 2, 64) + " [", "[report](targets/20250312T150926Z/report.md)"}},
		{[]string{"2025-03-11 00:00Z", "specweb99"}, []string{"–", "–", "–", "run.json: decode: ", "[run](specweb99/20250311T000000Z/)"}},
		{[]string{"2025-03-10 15:09Z", "hotos97"}, []string{"–", "–", "10 of 12",
			"amped/sped " + strconv.FormatFloat(hotos, 'f', 2, 64) + " [", "[run](hotos97/20250310T150926Z/)"}},
	} {
		got := mdRow(t, md, tt.first...)[2:]
		if got[0] != tt.want[0] || got[1] != tt.want[1] || got[2] != tt.want[2] || !strings.HasPrefix(got[3], tt.want[3]) || got[4] != tt.want[4] {
			t.Errorf("index.md row %q: got %q, want %q (the headline starting so)", tt.first, got, tt.want)
		}
	}
	// The headlines say what the verdict reads the ratio against.
	for _, want := range []string{
		"] undecided (>= 1.20 at file_size_bytes=500) |",
		"] undecided (paper 1.00 at file_size_bytes=500) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("index.md: no headline ending %q in\n%s", want, md)
		}
	}
	for _, want := range []string{`href="targets/20250312T150926Z/report.html"`, `href="hotos97/20250310T150926Z/"`,
		`<span class="open">undecided</span>`, `<td class="bad">dirty</td>`, `<td class="warn">7 of 7, interrupted</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html: no %s", want)
		}
	}
	checkSelfContained(t, page)
	reporttest.Golden(t, filepath.Join("testdata", "index.md"), md, *update)
	reporttest.Golden(t, filepath.Join("testdata", "index.html"), page, *update)
}

// TestIndexHeadlineIsTheReports checks that the index's headline of a run
// with targets is the report's own first measured target row, as
// report.Targets measures it over the fully checked documents.
func TestIndexHeadlineIsTheReports(t *testing.T) {
	root, dirs := indexArchive(t)
	a, err := report.Load(dirs["targets"])
	if err != nil {
		t.Fatal(err)
	}
	rows, err := report.Targets(a.Runs[0].ExperimentFile, a.Points)
	if err != nil {
		t.Fatal(err)
	}
	first := slices.IndexFunc(rows, func(r report.TargetRow) bool { return r.HasMeasured })
	if first < 0 {
		t.Fatal("no target of the targets run measured")
	}
	_, cells := report.TargetCells(rows[first : first+1])
	c := cells[0] // ratio, setting, target, measured, interval, rounds, verdict, left out
	want := c[0] + " " + c[3] + " " + c[4] + " " + c[6] + " (" + c[2] + " at " + c[1] + ")"
	md, _, err := report.WriteIndex(root)
	if err != nil {
		t.Fatal(err)
	}
	if got := mdRow(t, readFile(t, md), "2025-03-12 15:09Z", "targets")[5]; got != want {
		t.Errorf("index headline of the targets run: got %q, want the report's first target row %q", got, want)
	}
}

// checkSelfContained fails when the page loads anything: a script, an
// external URL, a stylesheet or an image from elsewhere.
func checkSelfContained(t *testing.T, page string) {
	t.Helper()
	for _, bad := range []string{"<script", "http://", "https://", "<link", "<img", "@import"} {
		if strings.Contains(page, bad) {
			t.Errorf("index.html contains %q; want one self-contained file", bad)
		}
	}
}

func TestWriteIndexErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	if _, _, err := report.WriteIndex(missing); err == nil || !strings.HasPrefix(err.Error(), "index: ") || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("WriteIndex(%s): got %v, want an error starting \"index: \" saying it is not there", missing, err)
	}
	empty := t.TempDir()
	md, _, err := report.WriteIndex(empty)
	if err != nil {
		t.Fatalf("WriteIndex(empty root): %v", err)
	}
	if got := readFile(t, md); !strings.Contains(got, "0 archived runs of 0 experiments") {
		t.Errorf("index.md of an empty root: got\n%s\nwant it to say there is no run", got)
	}
	// A result document that does not decode costs the run its
	// headline, not its row.
	root, dirs := indexArchive(t)
	if err := os.WriteFile(filepath.Join(dirs["targets"], tspecID()+".json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	md, _, err = report.WriteIndex(root)
	if err != nil {
		t.Fatalf("WriteIndex with an unreadable result: %v", err)
	}
	if got := mdRow(t, readFile(t, md), "2025-03-12 15:09Z", "targets")[5]; !strings.HasPrefix(got, "– (point "+tspecID()+": ") {
		t.Errorf("headline of a run with an unreadable result: got %q, want \"– (point %s: ...)\"", got, tspecID())
	}
}

// tspecID is a measured point of reporttest.TargetsSpec.
func tspecID() string { return reporttest.TargetsSpec().PointID("amped", 500, 1) }
