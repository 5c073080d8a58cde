package report

import (
	"slices"
	"strconv"
	"strings"
)

// Target verdicts: what the measured ratio's interval says of a target.
const (
	// TargetMet: the interval lies wholly at or past the target.
	TargetMet = "met"
	// TargetNotMet: the interval lies wholly short of the target.
	TargetNotMet = "not met"
	// TargetUndecided: the interval straddles the target, or nothing was
	// measured.
	TargetUndecided = "undecided"
)

// Target is one [[target]] table of an experiment file: flashbench's own
// one-sided goal for a ratio between two of the experiment's
// architectures, such as "sped at least 1.15 times nginx".
type Target struct {
	// Ratio is "num/den", two architectures of the experiment.
	Ratio string `toml:"ratio"`
	// Min and Max bound the ratio from below or from above: a target has
	// exactly one.
	Min *float64 `toml:"min"`
	Max *float64 `toml:"max"`
	// Metric is the metric the ratio is of: a Metrics name, throughput_rps
	// when empty.
	Metric string `toml:"metric"`
	// Settings, when given, limits the target to these settings: values of
	// the swept parameter ("51200") or whole settings
	// ("file_size_bytes=51200"). Empty: every setting.
	Settings []string `toml:"settings"`
	Note     string   `toml:"note"`
}

// Bound returns the target's bound and its sense: ">=" for a min, "<="
// for a max.
func (t Target) Bound() (op string, v float64) {
	if t.Max != nil {
		return "<=", *t.Max
	}
	if t.Min != nil {
		return ">=", *t.Min
	}
	return ">=", 0
}

// String is the target as tables show it: ">= 1.15", "<= 3.00".
func (t Target) String() string {
	op, v := t.Bound()
	return op + " " + strconv.FormatFloat(v, 'f', 2, 64)
}

// TargetRow is one target at one setting, measured as a paper ratio is
// (RatioRow.measure); its Verdict is TargetMet, TargetNotMet or
// TargetUndecided.
type TargetRow struct {
	Target Target
	// Metric is the metric the ratio is of.
	Metric Metric
	RatioRow
}

// Targets measures the targets of an experiment file over the points of
// one run of it, as its report's section does.
func Targets(experimentFile string, points []*Point) ([]TargetRow, error) {
	e, err := ParseExperiment(experimentFile)
	if err != nil {
		return nil, err
	}
	return targetRows(e.Targets, Groups(points)), nil
}

// targetRows measures every target at each setting it applies to. A
// target whose side was not run (a run narrowed with --archs), or has no
// server-bound trial, is not measured and undecided; a setting the target
// names and the run lacks gets a row of its own, not measured.
func targetRows(targets []Target, groups []*Group) []TargetRow {
	settings, _ := settingsAndArchs(groups)
	bySides := map[string]map[string]*side{}
	var rows []TargetRow
	for _, t := range targets {
		m, ok := MetricByName(t.Metric)
		if !ok {
			m = Metrics[0]
		}
		sd, ok := bySides[m.Name]
		if !ok {
			sd = sides(groups, m)
			bySides[m.Name] = sd
		}
		num, den, _ := strings.Cut(t.Ratio, "/")
		for _, key := range targetSettings(t, settings) {
			r := TargetRow{Target: t, Metric: m, RatioRow: RatioRow{Ratio: t.Ratio, Setting: key}}
			r.measure(sd[num+"\x00"+key], sd[den+"\x00"+key], RatioTolerance)
			r.Verdict = targetVerdict(t, r.RatioRow)
			rows = append(rows, r)
		}
	}
	return rows
}

// targetSettings returns the keys of the settings t applies to: every
// setting of the run (one row "" when it has none), or those t names, in
// the run's order, then the names that match no setting of the run.
func targetSettings(t Target, settings []*Group) []string {
	var keys []string
	matched := map[string]bool{}
	for _, s := range settings {
		if len(t.Settings) == 0 {
			keys = append(keys, s.Key)
			continue
		}
		hit := false
		for _, name := range settingNames(s.Params, s.Key) {
			if slices.Contains(t.Settings, name) {
				matched[name], hit = true, true
			}
		}
		if hit {
			keys = append(keys, s.Key)
		}
	}
	if len(t.Settings) == 0 && len(keys) == 0 {
		return []string{""}
	}
	for _, name := range t.Settings {
		if !matched[name] {
			keys = append(keys, name)
		}
	}
	return keys
}

// targetVerdict reads r's interval against t: for a min, met when the
// interval's low end is at or above it, not met when its high end is
// below it; for a max the mirror image; undecided otherwise, and when
// nothing was measured.
func targetVerdict(t Target, r RatioRow) string {
	op, v := t.Bound()
	switch {
	case !r.HasMeasured:
		return TargetUndecided
	case op == ">=" && r.Low >= v, op == "<=" && r.High <= v:
		return TargetMet
	case op == ">=" && r.High < v, op == "<=" && r.Low > v:
		return TargetNotMet
	}
	return TargetUndecided
}
