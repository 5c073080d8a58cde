package report_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"flashbench/harness/report"
	"flashbench/harness/report/reporttest"
	"flashbench/results"
)

// mdRow returns the cells of the Markdown table row that starts with the
// given cells, or fails.
func mdRow(t *testing.T, md string, first ...string) []string {
	t.Helper()
	prefix := "| " + strings.Join(first, " | ") + " |"
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, prefix) {
			cells := strings.Split(strings.Trim(line, "| "), " | ")
			return cells
		}
	}
	t.Fatalf("report.md has no row starting %q", prefix)
	return nil
}

// cellMedian is the median part of a cell "1234 ±3%".
func cellMedian(cell string) string {
	m, _, _ := strings.Cut(cell, " ±")
	return m
}

func TestWrite(t *testing.T) {
	for _, tt := range []struct {
		name      string
		spec      reporttest.Spec
		wantPlots []string
		wantTitle string
	}{
		{"hotos97 bars", hotosSpec(), []string{"hotos97-connections_per_s-1", "hotos97-server_cpu_per_request_us-1",
			"hotos97-connections_per_s-2", "hotos97-server_cpu_per_request_us-2", "hotos97-latency-1", "hotos97-latency-2"},
			"HotOS 1997, Table 1: connections, 500 B"},
		{"single-file sweep", sweepSpec(), []string{"single-file-throughput_rps", "single-file-bytes_per_s",
			"single-file-latency-1", "single-file-latency-2", "single-file-latency-3"},
			"Flash (USENIX 1999), Figure 6: throughput vs file size"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeRun(t, tt.spec)
			mdPath, htmlPath, err := report.Write(dir)
			if err != nil {
				t.Fatalf("Write(%s): %v", dir, err)
			}
			if mdPath != filepath.Join(dir, "report.md") || htmlPath != filepath.Join(dir, "report.html") {
				t.Errorf("Write: got paths %s, %s, want report.md and report.html in %s", mdPath, htmlPath, dir)
			}
			md := readFile(t, mdPath)
			checkMedians(t, md, dir, tt.spec)
			for _, name := range tt.wantPlots {
				checkSVG(t, filepath.Join(dir, "plots", name+".svg"), tt.spec.Experiment)
				checkPNG(t, filepath.Join(dir, "plots", name+".png"))
				if !strings.Contains(md, "(plots/"+name+".svg)") {
					t.Errorf("report.md does not show plot %s", name)
				}
			}
			svg := readFile(t, filepath.Join(dir, "plots", tt.wantPlots[0]+".svg"))
			if !strings.Contains(svg, tt.wantTitle) {
				t.Errorf("plot %s: title %q not in the SVG", tt.wantPlots[0], tt.wantTitle)
			}
			checkHTML(t, readFile(t, htmlPath), len(tt.wantPlots))
		})
	}
}

// checkMedians compares every table row's medians with those computed
// from the result files.
func checkMedians(t *testing.T, md, dir string, s reporttest.Spec) {
	t.Helper()
	for _, v := range s.Values {
		for _, arch := range s.Archs {
			cells := mdRow(t, md, arch, strconv.FormatFloat(v, 'f', -1, 64))
			for col, get := range map[int]func(*results.Result) float64{
				3: func(r *results.Result) float64 { return r.ThroughputRPS },
				4: func(r *results.Result) float64 { return r.ConnectionsPerS },
				5: func(r *results.Result) float64 { return r.BytesPerS * 8 / 1e6 },
				6: func(r *results.Result) float64 { return float64(r.LatencyUS.P50) / 1000 },
				7: func(r *results.Result) float64 { return float64(r.LatencyUS.P99) / 1000 },
			} {
				want := mustFormat(medianOf(t, dir, s, arch, v, get))
				if got := cellMedian(cells[col]); got != want {
					t.Errorf("report.md %s at %g, column %d: got median %s, want %s (row %q)", arch, v, col, got, want, cells)
				}
			}
		}
	}
}

func TestWriteProblemsAndRatios(t *testing.T) {
	s := hotosSpec()
	dir := writeRun(t, s)
	mdPath, _, err := report.Write(dir)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	md := readFile(t, mdPath)
	for id, reason := range s.Failed {
		if got := mdRow(t, md, id); got[1] != "failed" || got[2] != reason {
			t.Errorf("failed point %s: got row %q, want status failed and reason %q", id, got, reason)
		}
	}
	for id, reason := range s.Skipped {
		if got := mdRow(t, md, id); got[1] != "skipped" || got[2] != reason {
			t.Errorf("skipped point %s: got row %q, want status skipped and reason %q", id, got, reason)
		}
	}
	conns := func(r *results.Result) float64 { return r.ConnectionsPerS }
	for _, tt := range []struct {
		ratio, num, den string
		size            float64
		paper, left     string
		rounds          int
	}{
		{"amped/sped", "amped", "sped", 500, "1.00", "2", 1}, // sped's trial 2 client-bound: amped's has no partner
		{"amped/threaded", "amped", "threaded", 500, "1.71", "0", 2},
		{"amped/threaded", "amped", "threaded", 51200, "2.43", "1", 1}, // threaded's trial 2 failed
	} {
		want := fmt.Sprintf("%.2f", perRoundMedian(t, dir, s, tt.num, tt.den, tt.size, conns))
		got := mdRow(t, md, tt.ratio, fmt.Sprintf("file_size_bytes=%g", tt.size))
		if got[2] != tt.paper || got[3] != want || got[5] != strconv.Itoa(tt.rounds) || got[6] != "undecided" || got[7] != tt.left {
			t.Errorf("ratio %s at %g: got paper %s, measured %s in %s rounds, %s, %s left out; want %s, %s in %d rounds, undecided (too few rounds), %s",
				tt.ratio, tt.size, got[2], got[3], got[5], got[6], got[7], tt.paper, want, tt.rounds, tt.left)
		}
	}
	if left := "- " + s.PointID("sped", 500, 2) + ": client-bound: synthetic client bound"; !strings.Contains(md, left) {
		t.Errorf("report.md does not list the client-bound point left out of the ratios (want %q)", left)
	}
	if note := "under the server's CPU budget (0.3 cores per 10 ms period): a request that arrives while the server is throttled waits for the next period, up to 7.0 ms"; !strings.Contains(md, note) {
		t.Errorf("report.md lacks the latency note %q", note)
	}
	if html := readFile(t, filepath.Join(dir, "report.html")); !strings.Contains(html, "<li>"+s.PointID("sped", 500, 2)+": client-bound") {
		t.Errorf("report.html does not list the client-bound point left out of the ratios")
	}
	if got := mdRow(t, md, "sped", "500"); got[len(got)-1] != "server 1, client 1" {
		t.Errorf("sped 500: got bound %q, want server 1, client 1 (row %q)", got[len(got)-1], got)
	}
	if !strings.Contains(md, "Flash 670 vs thttpd 214") {
		t.Errorf("report.md lacks the paper note")
	}
}

func TestWriteInterrupted(t *testing.T) {
	s := sweepSpec()
	s.StopAfter = 8
	dir := writeRun(t, s)
	mdPath, htmlPath, err := report.Write(dir)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	md := readFile(t, mdPath)
	head, _, _ := strings.Cut(md, "## ")
	if !strings.Contains(head, "Interrupted run") || !strings.Contains(head, "8 of 8 points measured") {
		t.Errorf("report.md: interrupted run not flagged above the tables:\n%s", head)
	}
	if !strings.Contains(readFile(t, htmlPath), `class="warning">Interrupted run`) {
		t.Errorf("report.html: interrupted run not flagged")
	}
}

func TestWriteDirsMergesRuns(t *testing.T) {
	a, b := sweepSpec(), sweepSpec()
	b.Seed = 9
	dirA, dirB, dirH := writeRun(t, a), writeRun(t, b), writeRun(t, hotosSpec())
	out := t.TempDir()
	mdPath, _, err := report.WriteDirs(out, dirA, dirB, dirH)
	if err != nil {
		t.Fatalf("WriteDirs: %v", err)
	}
	md := readFile(t, mdPath)
	// The seed paper's table (hotos97 is one of its experiments) heads a
	// section of its own before the experiments'.
	if got := strings.Count(md, "\n## ") - strings.Count(md, "\n## HotOS 1997, Table 1"); got != 2 {
		t.Errorf("report over 3 runs of 2 experiments: got %d experiment sections, want 2", got)
	}
	// The two single-file runs' trials merge into one row of 6.
	if got := mdRow(t, md, "amped", "500"); got[2] != "6" {
		t.Errorf("merged row amped 500: got %s trials, want 6 (row %q)", got[2], got)
	}
	if _, err := os.Stat(filepath.Join(out, "plots", "hotos97-connections_per_s-1.svg")); err != nil {
		t.Errorf("WriteDirs: %v", err)
	}
}

func TestWriteErrors(t *testing.T) {
	tmp := t.TempDir()
	empty := filepath.Join(tmp, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	corrupt := writeRun(t, hotosSpec())
	id := hotosSpec().PointID("amped", 500, 1)
	if err := os.WriteFile(filepath.Join(corrupt, id+".json"), []byte(`{"schema_version": 2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, dir, want string }{
		{"missing dir", filepath.Join(tmp, "nope"), "no such file or directory"},
		{"no run.json", empty, "run.json"},
		{"unreadable result", corrupt, "point " + id},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := report.Write(tt.dir)
			if err == nil || !strings.HasPrefix(err.Error(), "report: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Write(%s): got error %v, want one starting report: and naming %q", tt.dir, err, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(corrupt, "report.md")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Write of a run with an unreadable result left report.md behind: %v", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkSVG parses path as XML: it must be one svg element with text.
func checkSVG(t *testing.T, path, experiment string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(readFile(t, path)))
	var root string
	texts := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: not XML: %v", path, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			if se.Name.Local == "text" {
				texts++
			}
		}
	}
	if root != "svg" || texts < 5 {
		t.Errorf("%s: got root <%s> with %d text elements, want <svg> with axis labels and a title", path, root, texts)
	}
}

// checkPNG decodes path as a PNG image of non-zero size.
func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("%s: got a %dx%d image, want a plot", path, b.Dx(), b.Dy())
	}
}

var externalRef = regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?[a-z]+:|url\(\s*["']?[a-z]+:|<script|<link`)

// checkHTML checks the page inlines its plots and fetches nothing.
func checkHTML(t *testing.T, page string, plots int) {
	t.Helper()
	if got := strings.Count(page, "<svg"); got != plots {
		t.Errorf("report.html: got %d inline <svg>, want %d", got, plots)
	}
	if m := externalRef.FindString(page); m != "" {
		t.Errorf("report.html is not self-contained: found %q", m)
	}
	if strings.Contains(page, "<?xml") {
		t.Errorf("report.html: an XML declaration was inlined")
	}
	if !bytes.HasPrefix([]byte(page), []byte("<!DOCTYPE html>")) {
		t.Errorf("report.html: no doctype")
	}
}

// TestRatiosWithoutVerdicts reports on a run made before budgets: its
// results have no bound verdict, so no ratio is measured, and every trial
// is listed as left out, with why.
func TestRatiosWithoutVerdicts(t *testing.T) {
	s := hotosSpec()
	s.Budget, s.Bounds = 0, nil
	dir := writeRun(t, s)
	mdPath, _, err := report.Write(dir)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	md := readFile(t, mdPath)
	if got := mdRow(t, md, "amped/sped", "file_size_bytes=500"); got[3] != "not measured" || got[6] != "undecided" || got[7] != "4" {
		t.Errorf("amped/sped at 500: got measured %s, %s, %s left out; want not measured, undecided, 4", got[3], got[6], got[7])
	}
	if left := "- " + s.PointID("amped", 500, 1) + ": no bound verdict (measured without a CPU budget)"; !strings.Contains(md, left) {
		t.Errorf("report.md lacks %q", left)
	}
	if strings.Contains(md, "Latencies are measured under the server's CPU budget") {
		t.Errorf("report.md: a latency note for a run without a budget")
	}
	if got := mdRow(t, md, "amped", "500"); got[len(got)-1] != "unknown" {
		t.Errorf("amped 500: got bound %q, want unknown", got[len(got)-1])
	}
}

// TestWriteRatioVerdicts reports on seven rounds: enough for a bounded
// interval, so the ratios are decided: amped/threaded (about 1.70 in the
// synthetic run) holds against the paper's 1.71 at 500 B and does not
// against 2.43 at 50 KB, and amped/sped (about 1.35) does not hold
// against 1.0.
func TestWriteRatioVerdicts(t *testing.T) {
	s := hotosSpec()
	s.Trials, s.Noise, s.Failed, s.Skipped, s.Bounds = 7, 0.01, nil, nil, nil
	dir := writeRun(t, s)
	mdPath, htmlPath, err := report.Write(dir)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	md := readFile(t, mdPath)
	for _, tt := range []struct {
		ratio string
		size  float64
		want  string
	}{
		{"amped/threaded", 500, "holds"},
		{"amped/threaded", 51200, "does not hold"},
		{"amped/sped", 500, "does not hold"},
	} {
		got := mdRow(t, md, tt.ratio, fmt.Sprintf("file_size_bytes=%g", tt.size))
		if got[5] != "7" || got[6] != tt.want || strings.Contains(got[4], "∞") {
			t.Errorf("ratio %s at %g: got %s in %s rounds, interval %s; want %s in 7, a bounded interval", tt.ratio, tt.size, got[6], got[5], got[4], tt.want)
		}
	}
	if html := readFile(t, htmlPath); !strings.Contains(html, "<td>does not hold</td>") || !strings.Contains(html, "<td>holds</td>") {
		t.Errorf("report.html lacks the ratio verdicts")
	}
}

// TestWriteOrdersByExperimentArchs writes a run whose points came in the
// order amped, sped, threaded (as a shuffled round may run them) from an
// experiment file that lists threaded, sped, amped: the table follows the
// file, size by size.
func TestWriteOrdersByExperimentArchs(t *testing.T) {
	spec := hotosSpec()
	spec.ExperimentFile = strings.Replace(hotosFile, `archs = ["amped", "sped", "threaded"]`, `archs = ["threaded", "sped", "amped"]`, 1)
	if spec.ExperimentFile == hotosFile {
		t.Fatal("hotosFile has no archs line to reorder")
	}
	dir := writeRun(t, spec)
	mdPath, _, err := report.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(readFile(t, mdPath), "\n") {
		if f := strings.Split(line, "|"); len(f) > 3 && slices.Contains(spec.Archs, strings.TrimSpace(f[1])) {
			got = append(got, strings.TrimSpace(f[1])+" "+strings.TrimSpace(f[2]))
		}
	}
	want := []string{"threaded 500", "sped 500", "amped 500", "threaded 51200", "sped 51200", "amped 51200"}
	if !slices.Equal(got, want) {
		t.Errorf("table rows: got %q, want %q", got, want)
	}
}

// TestWriteNoisyTrials checks that the trials run on a noisy machine make
// one warning, with their count, the worst load and their ids, and that a
// trial on a quiet machine is not in it.
func TestWriteNoisyTrials(t *testing.T) {
	s := sweepSpec()
	noisy := []string{s.PointID("amped", 500, 1), s.PointID("sped", 51200, 3)}
	quiet := s.PointID("sped", 500, 2)
	s.Load = map[string]float64{noisy[0]: 2.5, noisy[1]: 3.75, quiet: 1.5}
	mdPath, _, err := report.Write(writeRun(t, s))
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	md := readFile(t, mdPath)
	want := "- 2 of 30 measured trials ran on a noisy machine (at worst load average up to 3.75 on 2 CPUs): " + strings.Join(noisy, ", ") + "\n"
	if !strings.Contains(md, want) {
		t.Errorf("report.md: want the line %q in its warnings:\n%s", want, md)
	}
	if n := strings.Count(md, "noisy machine"); n != 1 || strings.Contains(md, quiet+",") || strings.HasSuffix(strings.TrimSpace(want), quiet) {
		t.Errorf("report.md: got %d lines on noisy trials, want one without %s", n, quiet)
	}
}

// TestWriteArchNotes checks that a run measuring uring says what it stands
// for, once, in both reports, and that one without it does not.
func TestWriteArchNotes(t *testing.T) {
	s := sweepSpec()
	s.Archs = []string{"sped", "uring"}
	mdPath, htmlPath, err := report.Write(writeRun(t, s))
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	const want = "uring is flashbench's AMPED on io_uring"
	if md := readFile(t, mdPath); strings.Count(md, want) != 1 {
		t.Errorf("report.md: got %d notes on uring, want 1", strings.Count(md, want))
	}
	if page := readFile(t, htmlPath); strings.Count(page, "uring is flashbench&#39;s AMPED on io_uring") != 1 {
		t.Errorf("report.html: want one note on uring")
	}
	mdPath, _, err = report.Write(writeRun(t, sweepSpec()))
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if md := readFile(t, mdPath); strings.Contains(md, want) {
		t.Errorf("report.md of sped and amped: got a note on uring, want none")
	}
}

// TestDiskInFlight checks the reads in flight at a slow device, beside
// each architecture's throughput, in a run that served from one, and no
// such column in a run that did not.
func TestDiskInFlight(t *testing.T) {
	s := sweepSpec()
	s.Disk = true
	mdPath, _, err := report.Write(writeRun(t, s))
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	md := readFile(t, mdPath)
	if !strings.Contains(md, "| bound | disk reads in flight |") {
		t.Errorf("report.md: want a column of disk reads in flight after bound:\n%s", md)
	}
	for _, want := range []string{"| unknown | 1.00 ±∞ |\n| sped | 500 |", "| unknown | 2.00 ±∞ |\n| amped | 5000 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md: want %q, amped with 1 read in flight and sped with 2", want)
		}
	}
	mdPath, _, err = report.Write(writeRun(t, sweepSpec()))
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if md := readFile(t, mdPath); strings.Contains(md, "in flight") {
		t.Error("report.md of a run without a slow device: got a column of reads in flight")
	}
}
