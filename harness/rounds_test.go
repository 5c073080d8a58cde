package harness_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"flashbench/harness"
)

// TestRoundOrder checks the orders of the rounds: each a permutation of
// the contenders, differing from round to round, each contender once in
// each position over n rounds, the same for the same seed.
func TestRoundOrder(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5, 19} {
		positions := make([]map[int]bool, n)
		for i := range positions {
			positions[i] = map[int]bool{}
		}
		var prev []int
		for round := 1; round <= n; round++ {
			order := harness.RoundOrder(n, 7, round)
			if got := slices.Sorted(slices.Values(order)); len(got) != n || got[0] != 0 || got[n-1] != n-1 || len(slices.Compact(got)) != n {
				t.Fatalf("n %d round %d: got %v, want a permutation of 0..%d", n, round, order, n-1)
			}
			if n > 1 && slices.Equal(order, prev) {
				t.Errorf("n %d round %d: got %v, the order of the round before", n, round, order)
			}
			for pos, c := range order {
				positions[c][pos] = true
			}
			if !slices.Equal(order, harness.RoundOrder(n, 7, round)) {
				t.Errorf("n %d round %d: two calls with the same seed differ", n, round)
			}
			prev = order
		}
		for c, seen := range positions {
			if len(seen) != n {
				t.Errorf("n %d: contender %d ran in positions %v over %d rounds, want each once", n, c, seen, n)
			}
		}
	}
	if slices.Equal(harness.RoundOrder(19, 1, 1), harness.RoundOrder(19, 2, 1)) {
		t.Errorf("seeds 1 and 2 give the same order of 19 contenders")
	}
}

// TestExecuteRounds runs three architectures for three trials: the points
// must come in rounds (each round every architecture once, in the order
// RoundOrder gives for the experiment's seed, before the next round), and
// each server must have been started once for all its rounds; the
// summary then shows the paper ratio with its verdict.
func TestExecuteRounds(t *testing.T) {
	e := mustParse(t, `name = "rounds"
description = "three architectures in three rounds"
archs = ["sped", "null", "amped"]
[fileset]
kind = "fixed"
count = 4
size_bytes = 500
seed = 5
[load]
connections = 2
requests_per_conn = 1
duration = "200ms"
trials = 3
allow_saturated_client = true
[paper]
ratios = { "amped/sped" = 1.0 }
`)
	out, log := executeExperiment(t, e, harness.Options{Warmup: 100 * time.Millisecond})
	var got, want []string
	for _, p := range out.Index.Points {
		got = append(got, p.ID)
	}
	for round := 1; round <= 3; round++ {
		for _, i := range harness.RoundOrder(3, 5, round) {
			want = append(want, harness.Cell{Arch: e.Archs[i]}.PointID(round))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("got points in the order %v, want %v\n%s", got, want, log.String())
	}
	for _, arch := range e.Archs {
		b, err := os.ReadFile(filepath.Join(out.Dir, "logs", arch+".log"))
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "listening on"); n != 1 {
			t.Errorf("%s: got %d starts in its log, want 1 for three rounds:\n%s", arch, n, b)
		}
	}
	var sum strings.Builder
	if err := harness.WriteSummary(&sum, e, out); err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile(`(?m)^amped/sped +all +1\.00 +(not measured|[0-9.]+) +\S+(, \S+)? +[0-3] +(holds|does not hold|undecided) +[0-9]+`)
	if !strings.Contains(sum.String(), "ratios (throughput;") || !row.MatchString(sum.String()) {
		t.Errorf("summary lacks the paper ratio amped/sped with its verdict:\n%s", sum.String())
	}
}
