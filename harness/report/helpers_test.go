package report_test

import (
	"path/filepath"
	"slices"
	"testing"

	"flashbench/harness/report"
	"flashbench/harness/report/reporttest"
	"flashbench/results"
)

// hotosFile is a hotos97-like experiment file: two file sizes, paper ratios
// as one number and as a table by file size.
const hotosFile = `description = "Connection rate on two fixed file sets, HTTP/1.0."
figure = "HotOS 1997, Table 1"
archs = ["amped", "sped", "threaded"]

[paper]
ratios = { "amped/threaded" = { "500" = 1.71, "51200" = 2.43 }, "amped/sped" = 1.0 }
metric = "connections_per_s"
note = "Flash 670 vs thttpd 214 conn/s on 500 B files; 211 vs 107 on 50 KB."
`

// sweepFile is a single-file-like experiment file with a size sweep.
const sweepFile = `figure = "Flash (USENIX 1999), Figure 6"
description = "One file requested over and over, size swept."
`

// hotosSpec is a hotos97-like run: 3 archs x 2 sizes x 2 trials, one point
// failed and one skipped (12 points, 10 measured), under a 0.3-core budget,
// one point client-bound.
func hotosSpec() reporttest.Spec {
	s := reporttest.Spec{Experiment: "hotos97", ExperimentFile: hotosFile,
		Archs: []string{"amped", "sped", "threaded"}, Param: "file_size_bytes", Values: []float64{500, 51200},
		Trials: 2, Seed: 1, Budget: 0.3}
	s.Failed = map[string]string{s.PointID("threaded", 51200, 2): "server exited: signal: killed"}
	s.Skipped = map[string]string{s.PointID("sped", 51200, 2): "arch not built on this kernel"}
	s.Bounds = map[string]string{s.PointID("sped", 500, 2): results.BoundClient}
	return s
}

// sweepSpec is a single-file-like run: 2 archs x 5 sizes x 3 trials.
func sweepSpec() reporttest.Spec {
	return reporttest.Spec{Experiment: "single-file", ExperimentFile: sweepFile,
		Archs: []string{"amped", "sped"}, Param: "file_size_bytes",
		Values: []float64{500, 5000, 51200, 204800, 1048576}, Trials: 3, Seed: 2}
}

// writeRun writes spec's run under a temporary directory.
func writeRun(t testing.TB, spec reporttest.Spec) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), spec.Experiment, "20250314T150926Z")
	if _, err := reporttest.Write(dir, spec); err != nil {
		t.Fatalf("write synthetic run: %v", err)
	}
	return dir
}

// medianOf reads the measured points of arch at value in dir straight from
// their result files and returns the median of get over them, computed
// here rather than by the package under test.
func medianOf(t testing.TB, dir string, spec reporttest.Spec, arch string, value float64, get func(*results.Result) float64) float64 {
	t.Helper()
	return median(t, dir, spec, arch, value, get, false)
}

// serverBoundMedianOf is medianOf over the server-bound points only.
func serverBoundMedianOf(t testing.TB, dir string, spec reporttest.Spec, arch string, value float64, get func(*results.Result) float64) float64 {
	t.Helper()
	return median(t, dir, spec, arch, value, get, true)
}

func median(t testing.TB, dir string, spec reporttest.Spec, arch string, value float64, get func(*results.Result) float64, serverBound bool) float64 {
	t.Helper()
	var v []float64
	for trial := 1; trial <= spec.Trials; trial++ {
		id := spec.PointID(arch, value, trial)
		if _, failed := spec.Failed[id]; failed {
			continue
		}
		if _, skipped := spec.Skipped[id]; skipped {
			continue
		}
		if b, ok := spec.Bounds[id]; serverBound && ok && b != results.BoundServer {
			continue
		}
		r, err := results.Read(filepath.Join(dir, id+".json"))
		if err != nil {
			t.Fatalf("read point %s: %v", id, err)
		}
		v = append(v, get(r))
	}
	slices.Sort(v)
	switch n := len(v); {
	case n == 0:
		t.Fatalf("no measured trial of %s at %g", arch, value)
	case n%2 == 1:
		return v[n/2]
	default:
		return (v[n/2-1] + v[n/2]) / 2
	}
	return 0
}

// mustFormat formats like the report's cells (a formatting helper, not a statistic).
func mustFormat(v float64) string { return report.FormatValue(v) }

// perRoundMedian is the median, over the rounds in which both num and den
// were measured and server-bound at value, of num's metric over den's,
// read from the result files.
func perRoundMedian(t testing.TB, dir string, spec reporttest.Spec, num, den string, value float64, get func(*results.Result) float64) float64 {
	t.Helper()
	var ratios []float64
	for trial := 1; trial <= spec.Trials; trial++ {
		var v [2]float64
		ok := true
		for i, arch := range []string{num, den} {
			id := spec.PointID(arch, value, trial)
			_, failed := spec.Failed[id]
			_, skipped := spec.Skipped[id]
			if b, bound := spec.Bounds[id]; failed || skipped || bound && b != results.BoundServer {
				ok = false
				break
			}
			r, err := results.Read(filepath.Join(dir, id+".json"))
			if err != nil {
				t.Fatalf("read point %s: %v", id, err)
			}
			v[i] = get(r)
		}
		if ok {
			ratios = append(ratios, v[0]/v[1])
		}
	}
	slices.Sort(ratios)
	n := len(ratios)
	if n == 0 {
		t.Fatalf("no round with both %s and %s at %g", num, den, value)
	}
	if n%2 == 1 {
		return ratios[n/2]
	}
	return (ratios[n/2-1] + ratios[n/2]) / 2
}
