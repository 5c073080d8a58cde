package report

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// headline is the one ratio that sums a run up in the index: a target of
// its experiment when it has targets, else a paper ratio (runHeadline
// says which), measured from the run's points by the code its report
// uses.
type headline struct {
	Row RatioRow
	// Bound is what the verdict reads the ratio against: ">= 1.15" for a
	// target (its metric first when it is not throughput), "paper 3.10"
	// for a paper ratio.
	Bound string
}

// runHeadline measures the headline of the run in dir; nil when its
// experiment file sets neither targets nor paper ratios. Of the targets'
// rows (a target and a setting each, in the report's order) it takes the
// first one measured, else the first: a run narrowed with --archs to
// architectures the first target does not compare still gets a number.
// Of the paper ratios' rows, likewise, the first measured one with a
// paper value, else the first with a paper value, else the first.
//
// It reads the result documents without the checks and histograms of
// Load (readResultLight): the index measures the headline of many runs.
func runHeadline(dir string, run *Run) (*headline, error) {
	e, err := ParseExperiment(run.ExperimentFile)
	if err != nil {
		return nil, err
	}
	if len(e.Targets) == 0 && len(e.Paper.Ratios) == 0 {
		return nil, nil
	}
	points, err := loadPointsLight(dir, run)
	if err != nil {
		return nil, err
	}
	groups := Groups(points)
	if len(e.Targets) > 0 {
		rows := targetRows(e.Targets, groups)
		r := rows[max(slices.IndexFunc(rows, func(r TargetRow) bool { return r.HasMeasured }), 0)]
		bound := r.Target.String()
		if r.Metric.Name != Metrics[0].Name {
			bound = r.Metric.Label + " " + bound
		}
		return &headline{Row: r.RatioRow, Bound: bound}, nil
	}
	m, _ := ratioMetric(e.Paper)
	rows, _ := ratioRows(e.Paper, m, groups)
	return paperHeadline(rows), nil
}

// paperHeadline picks the first measured row with a paper ratio, else the
// first with a paper ratio, else the first; nil for none.
func paperHeadline(rows []RatioRow) *headline {
	if len(rows) == 0 {
		return nil
	}
	i := slices.IndexFunc(rows, func(r RatioRow) bool { return r.HasPaper && r.HasMeasured })
	if i < 0 {
		i = max(slices.IndexFunc(rows, func(r RatioRow) bool { return r.HasPaper }), 0)
	}
	h := &headline{Row: rows[i], Bound: "no paper ratio"}
	if rows[i].HasPaper {
		h.Bound = "paper " + strconv.FormatFloat(rows[i].Paper, 'f', 2, 64)
	}
	return h
}

// loadPointsLight returns every point of the run, with the result
// document of each ok point.
func loadPointsLight(dir string, run *Run) ([]*Point, error) {
	points := make([]*Point, 0, len(run.Points))
	for _, e := range run.Points {
		p := &Point{PointEntry: e, Experiment: run.Experiment}
		if e.Status == StatusOK {
			r, err := readResultLight(filepath.Join(dir, e.Result))
			if err != nil {
				return nil, fmt.Errorf("point %s: %w", e.ID, err)
			}
			p.Result = r
		}
		points = append(points, p)
	}
	return points, nil
}

// Name is the ratio: "sped/nginx".
func (h *headline) Name() string { return h.Row.Ratio }

// Value is the measured ratio with its 95% interval, "1.88 [1.52, 2.35]",
// or "not measured".
func (h *headline) Value() string {
	_, cells := h.Row.cells()
	if !h.Row.HasMeasured {
		return cells[0]
	}
	return cells[0] + " " + cells[1]
}

// Verdict is the row's verdict: met, not met, holds, does not hold or
// undecided; "" for a paper ratio without a paper value, and for a ratio
// not measured, whose Value says so (its verdict is undecided).
func (h *headline) Verdict() string {
	if !h.Row.HasMeasured {
		return ""
	}
	return h.Row.Verdict
}

// VerdictClass is the page's style of the verdict: good, bad or open.
func (h *headline) VerdictClass() string {
	switch h.Row.Verdict {
	case TargetMet, RatioHolds:
		return "good"
	case TargetNotMet, RatioDoesNotHold:
		return "bad"
	}
	return "open"
}

// Note says what the ratio was read against, and at which setting:
// "(>= 1.15 at file_size_bytes=500)".
func (h *headline) Note() string {
	if h.Row.Setting == "" {
		return "(" + h.Bound + ")"
	}
	return "(" + h.Bound + " at " + h.Row.Setting + ")"
}

// Text is the whole headline on one line: "sped/nginx 1.88 [1.52, 2.35]
// met (>= 1.15)".
func (h *headline) Text() string {
	parts := []string{h.Name(), h.Value()}
	if v := h.Verdict(); v != "" {
		parts = append(parts, v)
	}
	return strings.Join(append(parts, h.Note()), " ")
}
