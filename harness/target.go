package harness

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"flashbench/harness/report"
)

// validateTarget checks a [[target]]: a ratio of two of the experiment's
// architectures, exactly one positive bound, a known metric, and settings
// that are values of the sweep.
func (e *Experiment) validateTarget(t report.Target) error {
	num, den, ok := strings.Cut(t.Ratio, "/")
	switch {
	case !ok || num == "" || den == "" || num == den:
		return errors.New("ratio: want \"num/den\", two different architectures")
	case !slices.Contains(e.Archs, num):
		return fmt.Errorf("ratio: %s is not in archs", num)
	case !slices.Contains(e.Archs, den):
		return fmt.Errorf("ratio: %s is not in archs", den)
	case (t.Min == nil) == (t.Max == nil):
		return errors.New("min and max: want exactly one")
	}
	bound, v := "min", t.Min
	if t.Max != nil {
		bound, v = "max", t.Max
	}
	if !(*v > 0 && *v < math.Inf(1)) {
		return fmt.Errorf("%s: %v, want a positive number", bound, *v)
	}
	if _, ok := report.MetricByName(t.Metric); t.Metric != "" && !ok {
		var names []string
		for _, m := range report.Metrics {
			names = append(names, m.Name)
		}
		return fmt.Errorf("metric %q: want one of %s", t.Metric, strings.Join(names, ", "))
	}
	for i, name := range t.Settings {
		if slices.Contains(t.Settings[:i], name) {
			return fmt.Errorf("settings: %q listed twice", name)
		}
		if !e.isSweepValue(name) {
			return fmt.Errorf("settings: %q is not a value of the sweep", name)
		}
	}
	return nil
}

// isSweepValue reports whether name is a value of the swept parameter
// ("51200") or the parameter with it ("file_size_bytes=51200").
func (e *Experiment) isSweepValue(name string) bool {
	if e.Sweep == nil {
		return false
	}
	for _, v := range e.Sweep.Values {
		if s := report.FormatParam(v); name == s || name == e.Sweep.Param+"="+s {
			return true
		}
	}
	return false
}
