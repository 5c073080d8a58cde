package report_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/harness/report"
	"flashbench/harness/report/reporttest"
	"flashbench/results"
)

// seedSpecs are make bench's two runs, synthetic: hotos97 with Flash, the
// stand-ins and nginx at both sizes, and hotos97-cgi. An architecture's
// throughput is Flash's over 1+0.35×its index (reporttest.Throughput),
// ±1% by trial: webfsd (0.49 of Flash) holds the paper's thttpd at 50 KB
// (0.51) and sped-nocache (0.59) does not; one client-bound trial leaves
// sped-nocache 5 rounds at 500 B, too few for a bounded interval.
func seedSpecs(t *testing.T) (hotos, cgi string) {
	root := t.TempDir()
	s := reporttest.Spec{Experiment: "hotos97", Archs: []string{"amped", "flashlite", "sped-nocache", "webfsd", "forking", "mini_httpd", "nginx"},
		Param: "file_size_bytes", Values: []float64{500, 51200}, Trials: 6, Seed: 5, Noise: 0.01, Budget: 0.3}
	s.Bounds = map[string]string{s.PointID("sped-nocache", 500, 4): results.BoundClient}
	c := reporttest.Spec{Experiment: "hotos97-cgi", Archs: []string{"amped", "flashlite"}, Trials: 6, Seed: 6, Noise: 0.01, Budget: 0.3}
	hotos, cgi = filepath.Join(root, "hotos97", "20261207T060940Z"), filepath.Join(root, "hotos97-cgi", "20261207T061100Z")
	for dir, spec := range map[string]reporttest.Spec{hotos: s, cgi: c} {
		if _, err := reporttest.Write(dir, spec); err != nil {
			t.Fatal(err)
		}
	}
	return hotos, cgi
}

// TestSeedTable checks the seed paper's table at the top of the report of
// both runs against golden files, and the verdicts it must show whatever
// the golden files say.
func TestSeedTable(t *testing.T) {
	hotos, cgi := seedSpecs(t)
	out := t.TempDir()
	mdPath, htmlPath, err := report.WriteDirs(out, hotos, cgi)
	if err != nil {
		t.Fatalf("WriteDirs: %v", err)
	}
	md := readFile(t, mdPath)
	if seed, first := strings.Index(md, "## HotOS 1997, Table 1"), strings.Index(md, "\n## hotos97\n"); seed < 0 || first < seed {
		t.Errorf("report.md: got the seed table at %d and the first section at %d, want the table first", seed, first)
	}
	reporttest.Golden(t, filepath.Join("testdata", "seed.md"), between(t, md, "## HotOS 1997, Table 1", "\nEach cell"), *update)
	reporttest.Golden(t, filepath.Join("testdata", "seed.html"), between(t, readFile(t, htmlPath), `<section id="seed">`, "</section>"), *update)
	for _, tt := range []struct {
		first []string
		col   int
		want  string
	}{
		{[]string{"thttpd (SPED)", "webfsd"}, 5, "; paper 0.51: holds"},
		{[]string{"thttpd (SPED)", "sped-nocache"}, 5, "; paper 0.51: does not hold"},
		{[]string{"thttpd (SPED)", "sped-nocache"}, 3, " [−∞, 0.59]; paper 0.32: undecided"},
		{[]string{"Flash-Lite", "flashlite"}, 7, "; paper 2.00: does not hold"},
		{[]string{"Flash", "amped"}, 3, "reference"},
		{[]string{"Harvest", "none"}, 3, "–; paper 0.58"},
		{[]string{"–", "nginx"}, 7, "–"},
	} {
		if got := mdRow(t, md, tt.first...); !strings.HasSuffix(got[tt.col], tt.want) {
			t.Errorf("seed row %q, column %d: got %q, want it to end in %q", tt.first, tt.col, got[tt.col], tt.want)
		}
	}
}

// TestSeedTableRelatedRuns checks that the hotos97 run's own report holds
// the runs its run.json relates to it, and says which seed experiment is
// missing when the related run is gone.
func TestSeedTableRelatedRuns(t *testing.T) {
	hotos, cgi := seedSpecs(t)
	run, err := report.ReadRun(hotos)
	if err != nil {
		t.Fatal(err)
	}
	run.RelatedRuns = []string{"../../hotos97-cgi/" + filepath.Base(cgi)}
	writeRunJSON(t, hotos, run)
	mdPath, _, err := report.Write(hotos)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if md := readFile(t, mdPath); !strings.Contains(md, "\n## hotos97-cgi\n") || strings.Contains(md, "No measured point of") {
		t.Errorf("report.md of a run related to hotos97-cgi: want its section and no missing line:\n%s", md)
	}
	if err := os.RemoveAll(cgi); err != nil {
		t.Fatal(err)
	}
	mdPath, _, err = report.Write(hotos)
	if err != nil {
		t.Fatalf("Write without the related run: %v", err)
	}
	if md := readFile(t, mdPath); !strings.Contains(md, "No measured point of hotos97-cgi in these runs") {
		t.Errorf("report.md without the related run: want the missing line:\n%s", md)
	}
}

// writeRunJSON rewrites dir/run.json with run.
func writeRunJSON(t *testing.T, dir string, run *report.Run) {
	t.Helper()
	b, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "run.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
