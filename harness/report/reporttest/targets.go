package reporttest

import (
	"os"
	"testing"

	"flashbench/results"
)

// TargetsFile is a whole experiment file with a [[target]] of each kind
// the verdicts tell apart: met, not met, undecided, a bound from above on
// another metric, and one whose numerator the run did not measure.
const TargetsFile = `name = "targets"
description = "three architectures on two cached files, under targets"
figure = "flashbench targets"
archs = ["amped", "sped", "nginx", "flashlite"]

[fileset]
kind = "single"
size_bytes = 500

[load]
connections = 64
duration = "1s"
trials = 6

[sweep]
param = "file_size_bytes"
values = [500, 51200]

[[target]]
ratio = "amped/sped"
min = 1.2
note = "amped well above sped"

[[target]]
ratio = "sped/nginx"
min = 1.5

[[target]]
ratio = "amped/sped"
min = 1.35
settings = ["51200"]

[[target]]
ratio = "nginx/amped"
max = 2.0
metric = "server_cpu_per_request_us"
note = "nginx at most twice amped's CPU per request"

[[target]]
ratio = "flashlite/amped"
min = 1.0
settings = ["file_size_bytes=51200"]
`

// TargetsSpec is a run of TargetsFile without flashlite (as with --archs):
// 3 archs x 2 sizes x 6 trials under a 0.3-core budget, amped 1.35 times
// sped and 1.7 times nginx, sped's third trial at 500 B client-bound.
func TargetsSpec() Spec {
	s := Spec{Experiment: "targets", ExperimentFile: TargetsFile, Archs: []string{"amped", "sped", "nginx"},
		Param: "file_size_bytes", Values: []float64{500, 51200}, Trials: 6, Seed: 3, Budget: 0.3}
	s.Bounds = map[string]string{s.PointID("sped", 500, 3): results.BoundClient}
	return s
}

// Golden compares got with the golden file at path, or rewrites the file
// first when update is set (the tests' -update flag).
func Golden(t testing.TB, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s: got\n%s\nwant\n%s", path, got, want)
	}
}
