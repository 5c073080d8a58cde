package report_test

import (
	"html"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"flashbench/harness/report"
	"flashbench/results"
)

// svgText is one <text> of a plot: its content and its height on the
// page, larger higher up.
type svgText struct {
	text string
	up   float64
}

var svgTextElem = regexp.MustCompile(`<text [^>]*?y="([-0-9.e+]+)"[^>]*>([^<]*)</text>`)

// svgTexts returns the texts of the SVG at path. gonum draws with y
// upwards and flips each text, so a text's y attribute is minus its height.
func svgTexts(t *testing.T, path string) []svgText {
	t.Helper()
	var out []svgText
	for _, m := range svgTextElem.FindAllStringSubmatch(readFile(t, path), -1) {
		y, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatalf("%s: text y %q: %v", path, m[1], err)
		}
		out = append(out, svgText{html.UnescapeString(m[2]), -y})
	}
	return out
}

// TestBarPlots checks the throughput plot of a realistic run against the
// result files: one bar per server, largest median on top, each labelled
// with its median over nginx's; and the server CPU plot beside it in the
// same order.
func TestBarPlots(t *testing.T) {
	spec := realisticSpec()
	dir := writeRun(t, spec)
	if _, _, err := report.Write(dir); err != nil {
		t.Fatalf("Write: %v", err)
	}
	rps := func(r *results.Result) float64 { return r.ThroughputRPS }
	for i, size := range spec.Values {
		median := map[string]float64{}
		want := slices.Clone(spec.Archs)
		for _, arch := range want {
			median[arch] = medianOf(t, dir, spec, arch, size, rps)
		}
		slices.SortStableFunc(want, func(a, b string) int { return -cmpFloat(median[a], median[b]) })
		for _, plot := range []string{"hotos97-throughput_rps-", "hotos97-server_cpu_per_request_us-"} {
			path := filepath.Join(dir, "plots", plot+strconv.Itoa(i+1)+".svg")
			texts := svgTexts(t, path)
			var got []string
			for _, tx := range texts {
				if slices.Contains(spec.Archs, tx.text) {
					got = append(got, tx.text)
				}
			}
			slices.SortStableFunc(got, func(a, b string) int { return -cmpFloat(upOf(texts, a), upOf(texts, b)) })
			if !slices.Equal(got, want) {
				t.Errorf("%s: got servers top to bottom %q, want by throughput %q", path, got, want)
			}
		}
		path := filepath.Join(dir, "plots", "hotos97-throughput_rps-"+strconv.Itoa(i+1)+".svg")
		texts := svgTexts(t, path)
		for _, arch := range spec.Archs {
			label := "reference"
			if arch != "nginx" {
				label = ratio(median[arch]/median["nginx"]) + "× nginx"
			}
			if got := labelBeside(texts, arch); got != label {
				t.Errorf("%s: %s's bar: got label %q, want %q", path, arch, got, label)
			}
		}
	}
}

// ratio formats r as the bars' labels do: two decimals, or two
// significant digits below 0.1.
func ratio(r float64) string {
	if r < 0.1 {
		return strconv.FormatFloat(r, 'g', 2, 64)
	}
	return strconv.FormatFloat(r, 'f', 2, 64)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// upOf is the height of the text s.
func upOf(texts []svgText, s string) float64 {
	for _, t := range texts {
		if t.text == s {
			return t.up
		}
	}
	return math.NaN()
}

// labelBeside returns the bar label ("...× nginx" or "reference") nearest
// in height to arch's name.
func labelBeside(texts []svgText, arch string) string {
	up, best, dist := upOf(texts, arch), "", math.Inf(1)
	for _, t := range texts {
		if t.text == "reference" || strings.HasSuffix(t.text, "× nginx") {
			if d := math.Abs(t.up - up); d < dist {
				best, dist = t.text, d
			}
		}
	}
	return best
}

// TestLatencyPlotsOpenLoop checks that an open-loop run gets its corrected
// and uncorrected latencies side by side, each titled as such, on a log
// latency axis.
func TestLatencyPlotsOpenLoop(t *testing.T) {
	dir := writeRun(t, realisticSpec())
	mdPath, _, err := report.Write(dir)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	md := readFile(t, mdPath)
	for _, tt := range []struct{ name, title string }{
		{"hotos97-latency-1", "latency percentiles, 500 B, corrected for coordinated omission"},
		{"hotos97-latency-1-uncorrected", "latency percentiles, 500 B, uncorrected"},
	} {
		if !strings.Contains(md, "(plots/"+tt.name+".svg)") || !strings.Contains(md, tt.title) {
			t.Errorf("report.md: no plot %s titled %q", tt.name, tt.title)
		}
		var ticks []string
		for _, tx := range svgTexts(t, filepath.Join(dir, "plots", tt.name+".svg")) {
			if _, err := strconv.ParseFloat(tx.text, 64); err == nil {
				ticks = append(ticks, tx.text)
			}
		}
		if !slices.Contains(ticks, "10") || !slices.Contains(ticks, "20") || !slices.Contains(ticks, "50") {
			t.Errorf("%s: got latency ticks %q, want 10, 20 and 50 among them (a log axis)", tt.name, ticks)
		}
	}
}
