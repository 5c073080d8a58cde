// Package compare compares two sets of flashbench results metric by metric,
// the way benchstat compares Go benchmarks: for every architecture and
// parameter setting, the median of each side's trials with its confidence
// interval, the change, and whether a Mann-Whitney U test finds it
// significant (golang.org/x/perf/benchmath, no distribution assumed).
// Statistics that cannot be trusted (too few trials, noisy trials) come with
// warnings, not failures.
package compare

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"golang.org/x/perf/benchmath"

	"flashbench/harness/report"
	"flashbench/results"
)

// Confidence is the level of the confidence intervals shown: the
// reports'.
const Confidence = report.Confidence

// NoiseThreshold flags a side as noisy when its confidence interval reaches
// further than this fraction of its median: ±5%.
const NoiseThreshold = 0.05

// Row is one metric of one group (experiment, architecture, setting)
// compared between the old and the new results.
type Row struct {
	Experiment, Arch, Setting string
	Metric                    report.Metric
	// Old and New summarise each side's trials; a side without trials has
	// a zero Summary and N 0.
	Old, New   benchmath.Summary
	OldN, NewN int
	// Comparison is the U test; valid only when both sides have trials.
	Comparison benchmath.Comparison
	// Delta is the change of the median ("+5.35%"), "~" when the test does
	// not find a difference, "" when a side has no trials.
	Delta string
	// OldNoisy and NewNoisy flag a confidence interval wider than
	// ±NoiseThreshold.
	OldNoisy, NewNoisy bool
	// Warnings are benchmath's warnings about the samples, summaries and
	// the test, each once.
	Warnings []string
}

// Table is a whole comparison: every row, in the order the groups first
// appear (old side first).
type Table struct {
	OldName, NewName string
	Rows             []Row
}

// group is one (experiment, arch, setting) and its trials on each side.
type group struct {
	experiment, arch, setting string
	old, new                  []*results.Result
}

// Compare compares old and new results, grouped by the experiment,
// architecture and parameters their config.extra records (server.arch when
// extra has no arch).
func Compare(old, new []*results.Result) *Table {
	var groups []*group
	index := map[string]*group{}
	add := func(r *results.Result, isNew bool) {
		exp, arch, setting := key(r)
		id := exp + "\x00" + arch + "\x00" + setting
		g := index[id]
		if g == nil {
			g = &group{experiment: exp, arch: arch, setting: setting}
			index[id] = g
			groups = append(groups, g)
		}
		if isNew {
			g.new = append(g.new, r)
		} else {
			g.old = append(g.old, r)
		}
	}
	for _, r := range old {
		add(r, false)
	}
	for _, r := range new {
		add(r, true)
	}
	t := &Table{OldName: "old", NewName: "new"}
	for _, m := range report.Metrics {
		for _, g := range groups {
			if row, ok := compareGroup(g, m); ok {
				t.Rows = append(t.Rows, row)
			}
		}
	}
	return t
}

// holding returns the results of rs that hold m.
func holding(rs []*results.Result, m report.Metric) []*results.Result {
	var out []*results.Result
	for _, r := range rs {
		if m.Has(r) {
			out = append(out, r)
		}
	}
	return out
}

// key returns the group a result belongs to.
func key(r *results.Result) (experiment, arch, setting string) {
	extra := r.Config.Extra
	experiment, _ = extra["experiment"].(string)
	arch, _ = extra["arch"].(string)
	if arch == "" {
		arch = r.Server.Arch
	}
	params, _ := extra["params"].(map[string]any)
	return experiment, arch, report.ParamsKey(params)
}

// compareGroup summarises and tests one metric of one group; false when
// no result of either side holds the metric (server CPU without budgets).
func compareGroup(g *group, m report.Metric) (Row, bool) {
	old, new := holding(g.old, m), holding(g.new, m)
	if len(old) == 0 && len(new) == 0 {
		return Row{}, false
	}
	row := Row{Experiment: g.experiment, Arch: g.arch, Setting: g.setting, Metric: m,
		OldN: len(old), NewN: len(new)}
	thresholds := benchmath.DefaultThresholds
	var warnings []error
	sample := func(rs []*results.Result) *benchmath.Sample {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = m.Value(r)
		}
		s := benchmath.NewSample(v, &thresholds)
		warnings = append(warnings, s.Warnings...)
		return s
	}
	var so, sn *benchmath.Sample
	if len(old) > 0 {
		so = sample(old)
		row.Old = benchmath.AssumeNothing.Summary(so, Confidence)
		row.OldNoisy = noisy(row.Old)
		warnings = append(warnings, row.Old.Warnings...)
	}
	if len(new) > 0 {
		sn = sample(new)
		row.New = benchmath.AssumeNothing.Summary(sn, Confidence)
		row.NewNoisy = noisy(row.New)
		warnings = append(warnings, row.New.Warnings...)
	}
	if so != nil && sn != nil {
		row.Comparison = benchmath.AssumeNothing.Compare(so, sn)
		row.Delta = row.Comparison.FormatDelta(row.Old.Center, row.New.Center)
		warnings = append(warnings, row.Comparison.Warnings...)
	}
	seen := map[string]bool{}
	for _, w := range warnings {
		if !seen[w.Error()] {
			seen[w.Error()] = true
			row.Warnings = append(row.Warnings, w.Error())
		}
	}
	return row, true
}

// noisy reports whether s's confidence interval is finite and reaches
// further than NoiseThreshold from its center. An infinite interval (too
// few trials) is benchmath's warning, not noise.
func noisy(s benchmath.Summary) bool {
	if math.IsInf(s.Lo, 0) || math.IsInf(s.Hi, 0) || s.Center == 0 {
		return false
	}
	return math.Max(s.Hi/s.Center-1, 1-s.Lo/s.Center) > NoiseThreshold
}

// Load reads the results at path: a run directory (its run.json's measured
// points) or one result document.
func Load(path string) ([]*results.Result, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	if !fi.IsDir() {
		r, err := results.Read(path)
		if err != nil {
			return nil, fmt.Errorf("compare: %w", err)
		}
		return []*results.Result{r}, nil
	}
	a, err := report.Load(path)
	if err != nil {
		return nil, fmt.Errorf("compare: %w", err)
	}
	var out []*results.Result
	for _, p := range a.Points {
		if p.Result != nil {
			out = append(out, p.Result)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("compare: %s: no measured point", path)
	}
	return out, nil
}

// Paths compares the results at oldPath and newPath (run directories or
// result documents); the table names the sides after the paths.
func Paths(oldPath, newPath string) (*Table, error) {
	if oldPath == "" || newPath == "" {
		return nil, errors.New("compare: want two paths")
	}
	old, err := Load(oldPath)
	if err != nil {
		return nil, err
	}
	new, err := Load(newPath)
	if err != nil {
		return nil, err
	}
	t := Compare(old, new)
	t.OldName, t.NewName = filepath.Clean(oldPath), filepath.Clean(newPath)
	return t, nil
}
