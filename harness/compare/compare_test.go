package compare_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/harness/compare"
	"flashbench/harness/report/reporttest"
	"flashbench/results"
)

var update = flag.Bool("update", false, "rewrite testdata/*.stdout golden files")

// spec is a small synthetic run: two archs, two file sizes.
func spec(trials int, seed uint64, scale, noise float64) reporttest.Spec {
	return reporttest.Spec{Experiment: "hotos97", Archs: []string{"amped", "sped"},
		Param: "file_size_bytes", Values: []float64{500, 51200}, Trials: trials,
		Seed: seed, Scale: scale, Noise: noise}
}

// budgeted gives s's servers a CPU budget of 0.3 cores.
func budgeted(s reporttest.Spec) reporttest.Spec {
	s.Budget = 0.3
	return s
}

// load writes s as a run and reads its results back through compare.Load.
func load(t *testing.T, s reporttest.Spec) []*results.Result {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := reporttest.Write(dir, s); err != nil {
		t.Fatalf("write synthetic run: %v", err)
	}
	rs, err := compare.Load(dir)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return rs
}

func TestCompareGolden(t *testing.T) {
	for _, tt := range []struct {
		name     string
		old, new reporttest.Spec
	}{
		// 6 trials a side: enough for a confidence interval and a U test.
		{"faster", spec(6, 1, 1, 0), spec(6, 2, 1.10, 0)},
		{"same", spec(6, 1, 1, 0), spec(6, 2, 1, 0)},
		// 2 trials a side: benchmath warns, the change is never significant.
		{"few", spec(2, 1, 1, 0), spec(2, 2, 1.5, 0)},
		// ±20% trial-to-trial noise: flagged.
		{"noisy", spec(6, 1, 1, 0.2), spec(6, 2, 1, 0.2)},
		// sped only in the old run: its rows have one side.
		{"missing", spec(6, 1, 1, 0), func() reporttest.Spec { s := spec(6, 2, 1, 0); s.Archs = []string{"amped"}; return s }()},
		// Under a CPU budget: the server's CPU per request is compared too;
		// without one (the cases above) it has no rows.
		{"budget", budgeted(spec(6, 1, 1, 0)), budgeted(spec(6, 2, 1.10, 0))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := compare.Compare(load(t, tt.old), load(t, tt.new)).Format(&out); err != nil {
				t.Fatalf("format: %v", err)
			}
			golden := filepath.Join("testdata", tt.name+".stdout")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}
			if got := out.String(); got != string(want) {
				t.Errorf("compare %s: got\n%s\nwant\n%s", tt.name, got, want)
			}
		})
	}
}

// TestCompareStatistics checks the properties the golden files encode, so a
// regenerated golden file cannot silently accept a wrong comparison.
func TestCompareStatistics(t *testing.T) {
	faster := compare.Compare(load(t, spec(6, 1, 1, 0)), load(t, spec(6, 2, 1.10, 0)))
	few := compare.Compare(load(t, spec(2, 1, 1, 0)), load(t, spec(2, 2, 1.5, 0)))
	noisy := compare.Compare(load(t, spec(6, 1, 1, 0.2)), load(t, spec(6, 2, 1, 0.2)))
	for _, r := range faster.Rows {
		switch r.Metric.Name {
		case "throughput_rps", "connections_per_s", "bytes_per_s":
			if r.Delta == "~" || !strings.HasPrefix(r.Delta, "+") {
				t.Errorf("faster %s %s %s: got delta %q, want a significant increase", r.Metric.Name, r.Arch, r.Setting, r.Delta)
			}
			if got := r.New.Center / r.Old.Center; got < 1.03 || got > 1.17 {
				t.Errorf("faster %s %s %s: got ratio of medians %.3f, want about 1.10", r.Metric.Name, r.Arch, r.Setting, got)
			}
			if r.Comparison.P >= 0.05 || r.OldN != 6 || r.NewN != 6 {
				t.Errorf("faster %s: got p=%g n=%d+%d, want p<0.05 n=6+6", r.Metric.Name, r.Comparison.P, r.OldN, r.NewN)
			}
		}
		if r.OldNoisy || r.NewNoisy {
			t.Errorf("faster %s %s: flagged noisy with ±3%% noise", r.Metric.Name, r.Arch)
		}
	}
	for _, r := range few.Rows {
		if r.Delta != "~" {
			t.Errorf("few %s %s: got delta %q, want ~ (2 trials cannot be significant)", r.Metric.Name, r.Arch, r.Delta)
		}
		if len(r.Warnings) == 0 {
			t.Errorf("few %s %s: got no warning, want benchmath's too-few-samples warnings", r.Metric.Name, r.Arch)
		}
	}
	flagged := 0
	for _, r := range noisy.Rows {
		if r.OldNoisy || r.NewNoisy {
			flagged++
		}
	}
	if flagged == 0 {
		t.Errorf("noisy: got no row flagged with ±20%% noise, want some")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"schema_version": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "nope"), "no such file or directory"},
		{"no run.json", empty, "run.json"},
		{"bad result", bad, "bad.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compare.Load(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "compare: ") {
				t.Errorf("Load(%s): got error %v, want one starting compare: and naming %q", tt.path, err, tt.want)
			}
		})
	}
}
