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
	// Figure names the paper figure or table the experiment reproduces.
	Figure string `toml:"figure"`
	Paper  Paper  `toml:"paper"`
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

// RatioRow is one paper ratio at one parameter setting.
type RatioRow struct {
	Ratio   string // "amped/sped"
	Setting string // ParamsKey of the setting, "" when there are no parameters
	// Paper is the paper's ratio; HasPaper is false when the paper gives
	// none for this setting.
	Paper    float64
	HasPaper bool
	// Measured is the ratio of the two architectures' medians over their
	// server-bound trials; HasMeasured is false when either has none at
	// this setting.
	Measured    float64
	HasMeasured bool
	// Left are the trials of the two sides left out, each "ID: why" (not
	// server-bound: client, network, undecided, or no verdict at all).
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
	median := map[string]float64{} // arch + "\x00" + key -> median of the server-bound trials
	left := map[string][]string{}  // arch + "\x00" + key -> the trials left out
	var settings []*Group
	var archs []string
	for _, g := range groups {
		k := g.Arch + "\x00" + g.Key
		var v []float64
		for i, pt := range g.Points {
			if ok, why := serverBound(pt); ok {
				v = append(v, m.Value(g.Results[i]))
			} else {
				left[k] = append(left[k], pt.ID+": "+why)
			}
		}
		if len(v) > 0 {
			median[k] = Summarize(v).Median
		}
		if !slices.ContainsFunc(settings, func(s *Group) bool { return s.Key == g.Key }) {
			settings = append(settings, g)
		}
		if !slices.Contains(archs, g.Arch) {
			archs = append(archs, g.Arch)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Ratios)) {
		num, den, _ := strings.Cut(name, "/")
		switch {
		case slices.Contains(archs, num) && slices.Contains(archs, den):
			for _, s := range settings {
				r := RatioRow{Ratio: name, Setting: s.Key}
				r.Paper, r.HasPaper = paperRatio(p.Ratios[name], s.Params, s.Key)
				a, b := num+"\x00"+s.Key, den+"\x00"+s.Key
				r.Measured, r.HasMeasured = ratio(median, a, b)
				r.Left = append(slices.Clone(left[a]), left[b]...)
				rows = append(rows, r)
			}
		case settingOf(settings, num) != "" && settingOf(settings, den) != "":
			for _, arch := range archs {
				r := RatioRow{Ratio: name, Setting: "arch=" + arch}
				r.Paper, r.HasPaper = paperRatio(p.Ratios[name], nil, "")
				a, b := arch+"\x00"+settingOf(settings, num), arch+"\x00"+settingOf(settings, den)
				r.Measured, r.HasMeasured = ratio(median, a, b)
				r.Left = append(slices.Clone(left[a]), left[b]...)
				rows = append(rows, r)
			}
		default:
			r := RatioRow{Ratio: name}
			r.Paper, r.HasPaper = paperRatio(p.Ratios[name], nil, "")
			rows = append(rows, r)
			warnings = append(warnings, fmt.Sprintf("paper ratio %q: %s or %s is neither a measured architecture nor a value of the swept parameter", name, num, den))
		}
	}
	return rows, warnings
}

// ratio returns median[a]/median[b] when both were measured.
func ratio(median map[string]float64, a, b string) (float64, bool) {
	x, aok := median[a]
	y, bok := median[b]
	if !aok || !bok || y == 0 {
		return 0, false
	}
	return x / y, true
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
	if f, ok := tomlNumber(table[key]); ok {
		return f, true
	}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		for _, name := range []string{FormatParam(params[k]), k + "=" + FormatParam(params[k])} {
			if f, ok := tomlNumber(table[name]); ok {
				return f, true
			}
		}
	}
	return 0, false
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
