package report

import (
	"math"
	"slices"
	"testing"
)

func TestTargetVerdict(t *testing.T) {
	inf := math.Inf(1)
	minT := func(v float64) Target { return Target{Ratio: "a/b", Min: &v} }
	maxT := func(v float64) Target { return Target{Ratio: "a/b", Max: &v} }
	tests := []struct {
		name     string
		target   Target
		lo, hi   float64
		measured bool
		want     string
	}{
		{"min: above", minT(1.15), 1.2, 1.4, true, TargetMet},
		{"min: low end on the target", minT(1.15), 1.15, 1.4, true, TargetMet},
		{"min: straddling", minT(1.15), 1.1, 1.2, true, TargetUndecided},
		{"min: high end on the target", minT(1.15), 1.0, 1.15, true, TargetUndecided},
		{"min: below", minT(1.15), 1.0, 1.14, true, TargetNotMet},
		{"min: unbounded above, low end past it", minT(1.15), 1.2, inf, true, TargetMet},
		{"min: unbounded below", minT(1.15), -inf, 1.3, true, TargetUndecided},
		{"min: unbounded below, short of it", minT(1.15), -inf, 1.1, true, TargetNotMet},
		{"min: not measured", minT(1.15), 0, 0, false, TargetUndecided},
		{"max: below", maxT(3), 2.0, 2.9, true, TargetMet},
		{"max: high end on the target", maxT(3), 2.0, 3, true, TargetMet},
		{"max: straddling", maxT(3), 2.9, 3.1, true, TargetUndecided},
		{"max: low end on the target", maxT(3), 3, 3.5, true, TargetUndecided},
		{"max: above", maxT(3), 3.01, 3.5, true, TargetNotMet},
		{"max: unbounded above", maxT(3), 2.0, inf, true, TargetUndecided},
		{"max: not measured", maxT(3), 0, 0, false, TargetUndecided},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := RatioRow{Low: tt.lo, High: tt.hi, HasMeasured: tt.measured}
			if got := targetVerdict(tt.target, r); got != tt.want {
				t.Errorf("targetVerdict(%s, interval [%v, %v], measured %v): got %q, want %q", tt.target, tt.lo, tt.hi, tt.measured, got, tt.want)
			}
		})
	}
}

func TestTargetSettings(t *testing.T) {
	settings := []*Group{
		{Params: map[string]any{"file_size_bytes": 500.0}, Key: "file_size_bytes=500"},
		{Params: map[string]any{"file_size_bytes": 51200.0}, Key: "file_size_bytes=51200"},
	}
	tests := []struct {
		name     string
		names    []string
		settings []*Group
		want     []string
	}{
		{"every setting", nil, settings, []string{"file_size_bytes=500", "file_size_bytes=51200"}},
		{"by value", []string{"51200"}, settings, []string{"file_size_bytes=51200"}},
		{"by setting, in the run's order", []string{"file_size_bytes=51200", "500"}, settings, []string{"file_size_bytes=500", "file_size_bytes=51200"}},
		{"a setting the run lacks", []string{"204800", "500"}, settings, []string{"file_size_bytes=500", "204800"}},
		{"nothing measured", nil, nil, []string{""}},
		{"nothing measured, settings named", []string{"500"}, nil, []string{"500"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := targetSettings(Target{Settings: tt.names}, tt.settings); !slices.Equal(got, tt.want) {
				t.Errorf("targetSettings(%q): got %q, want %q", tt.names, got, tt.want)
			}
		})
	}
}
