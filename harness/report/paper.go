package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Experiment is what a report takes from an experiment file (run.json's
// experiment_file): every key is optional and unknown keys are ignored.
type Experiment struct {
	Description string `toml:"description"`
	// Archs orders the tables and plots: a run's rounds measure the
	// architectures in an order shuffled for each round.
	Archs []string `toml:"archs"`
	// Figure names the paper figure or table the experiment reproduces.
	Figure string `toml:"figure"`
	Paper  Paper  `toml:"paper"`
	// Targets are flashbench's own goals, one-sided bounds on ratios.
	Targets []Target `toml:"target"`
}

// Paper is an experiment file's [paper] table: the paper's numbers as
// ratios between architectures, since absolute numbers do not carry over
// from 1999 hardware but ratios measured in one run do.
type Paper struct {
	// Ratios maps "num/den" (architecture names) to the paper's ratio of
	// their metric: a number for every setting, or a table from a parameter
	// value ("500") or setting ("file_size_bytes=500") to a number.
	Ratios map[string]any `toml:"ratios"`
	// Metric is the metric the ratios are of: a Metrics name,
	// throughput_rps when empty.
	Metric string `toml:"metric"`
	Note   string `toml:"note"`
	// Tolerance is the width of each ratio's band (RatioTolerance when 0).
	Tolerance float64 `toml:"tolerance"`
}

// ParseExperiment parses an experiment file's TOML text. An empty text gives
// the zero Experiment.
func ParseExperiment(text string) (Experiment, error) {
	var e Experiment
	if _, err := toml.Decode(text, &e); err != nil {
		return Experiment{}, fmt.Errorf("experiment file: %w", err)
	}
	return e, nil
}

// ratioMetric returns the metric p's ratios are of, and a warning when p
// names one that does not exist (the ratios are then of throughput_rps).
func ratioMetric(p Paper) (Metric, string) {
	if m, ok := MetricByName(p.Metric); ok {
		return m, ""
	}
	if p.Metric != "" {
		return Metrics[0], fmt.Sprintf("paper metric %q unknown; ratios are of throughput_rps", p.Metric)
	}
	return Metrics[0], ""
}

// PaperRatios measures the paper ratios of an experiment file over the
// points of one run of it, as its report's section does: the metric they
// are of and a row per ratio and setting, with its verdict.
func PaperRatios(experimentFile string, points []*Point) (Metric, []RatioRow, error) {
	e, err := ParseExperiment(experimentFile)
	if err != nil {
		return Metric{}, nil, err
	}
	m, _ := ratioMetric(e.Paper)
	rows, _ := ratioRows(e.Paper, m, Groups(points))
	return m, rows, nil
}

// RatioRow is one paper ratio at one parameter setting.
type RatioRow struct {
	Ratio   string // "amped/sped"
	Setting string // ParamsKey of the setting, "" when there are no parameters
	// Paper is the paper's ratio; HasPaper is false when the paper gives
	// none for this setting.
	Paper    float64
	HasPaper bool
	// Measured is the median of the per-round ratios of the two sides'
	// server-bound trials, and Low and High its confidence interval (see
	// measure); HasMeasured is false when no round has both.
	Measured, Low, High float64
	HasMeasured         bool
	// Rounds is the number of per-round ratios.
	Rounds int
	// Verdict is RatioHolds, RatioDoesNotHold or RatioUndecided; "" when
	// the paper gives no ratio here.
	Verdict string
	// Left are the trials of the two sides left out, each "ID: why" (not
	// server-bound: client, network, undecided, no verdict at all; or no
	// server-bound partner in its round).
	Left []string
}

// ratioRows compares the paper's ratios with the measured ones for one
// experiment's groups. A ratio of two architectures ("amped/sped") is
// measured at every setting; a ratio of two values of a parameter
// ("path+header+mmap/none" for caches) is measured for every architecture.
// Only server-bound trials count: the others measure the client or the
// link, not the servers the ratio compares; each row lists those it left
// out.
func ratioRows(p Paper, m Metric, groups []*Group) (rows []RatioRow, warnings []string) {
	sd := sides(groups, m)
	settings, archs := settingsAndArchs(groups)
	tolerance := p.Tolerance
	if tolerance <= 0 {
		tolerance = RatioTolerance
	}
	for _, name := range slices.Sorted(maps.Keys(p.Ratios)) {
		num, den, _ := strings.Cut(name, "/")
		switch {
		case slices.Contains(archs, num) && slices.Contains(archs, den):
			for _, s := range settings {
				r := RatioRow{Ratio: name, Setting: s.Key}
				r.Paper, r.HasPaper = paperRatio(p.Ratios[name], s.Params, s.Key)
				r.measure(sd[num+"\x00"+s.Key], sd[den+"\x00"+s.Key], tolerance)
				rows = append(rows, r)
			}
		case settingOf(settings, num) != "" && settingOf(settings, den) != "":
			for _, arch := range archs {
				r := RatioRow{Ratio: name, Setting: "arch=" + arch}
				r.Paper, r.HasPaper = paperRatio(p.Ratios[name], nil, "")
				r.measure(sd[arch+"\x00"+settingOf(settings, num)], sd[arch+"\x00"+settingOf(settings, den)], tolerance)
				rows = append(rows, r)
			}
		default:
			r := RatioRow{Ratio: name}
			r.Paper, r.HasPaper = paperRatio(p.Ratios[name], nil, "")
			r.Verdict = ratioVerdict(r, tolerance)
			rows = append(rows, r)
			warnings = append(warnings, fmt.Sprintf("paper ratio %q: %s or %s is neither a measured architecture nor a value of the swept parameter", name, num, den))
		}
	}
	return append(rows, baseRows(archs, settings, sd)...), warnings
}

// settingsAndArchs returns the first group of each setting and every
// architecture, in the order of groups.
func settingsAndArchs(groups []*Group) (settings []*Group, archs []string) {
	for _, g := range groups {
		if !slices.ContainsFunc(settings, func(s *Group) bool { return s.Key == g.Key }) {
			settings = append(settings, g)
		}
		if !slices.Contains(archs, g.Arch) {
			archs = append(archs, g.Arch)
		}
	}
	return settings, archs
}

// baseRows compares each architecture with its base contender (ARCH and
// ARCH@base, a run comparing two builds) at every setting: a ratio with no
// paper ratio and no verdict, read as the new build's speed over the old.
func baseRows(archs []string, settings []*Group, sd map[string]*side) []RatioRow {
	var rows []RatioRow
	for _, a := range archs {
		base := a + BaseSuffix
		if !slices.Contains(archs, base) {
			continue
		}
		for _, s := range settings {
			r := RatioRow{Ratio: a + "/" + base, Setting: s.Key}
			r.measure(sd[a+"\x00"+s.Key], sd[base+"\x00"+s.Key], RatioTolerance)
			rows = append(rows, r)
		}
	}
	return rows
}

// settingOf returns the key of the setting whose only parameter has value
// v, or "".
func settingOf(settings []*Group, v string) string {
	for _, s := range settings {
		if len(s.Params) != 1 {
			continue
		}
		for _, pv := range s.Params {
			if FormatParam(pv) == v {
				return s.Key
			}
		}
	}
	return ""
}

// paperRatio finds the paper's ratio v for a setting: v itself when it is a
// number, else the entry of table v named by one of the setting's parameter
// values or by the whole setting.
func paperRatio(v any, params map[string]any, key string) (float64, bool) {
	if f, ok := tomlNumber(v); ok {
		return f, true
	}
	table, ok := v.(map[string]any)
	if !ok {
		return 0, false
	}
	for _, name := range settingNames(params, key) {
		if f, ok := tomlNumber(table[name]); ok {
			return f, true
		}
	}
	return 0, false
}

// settingNames returns the names an experiment file may give a setting
// by, in the order they are tried: the whole setting (its key), then
// each parameter's value ("500") and the parameter with it
// ("file_size_bytes=500").
func settingNames(params map[string]any, key string) []string {
	names := []string{key}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		names = append(names, FormatParam(params[k]), k+"="+FormatParam(params[k]))
	}
	return names
}

// tomlNumber returns v as a float64 when TOML decoded it as a number.
func tomlNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	}
	return 0, false
}
