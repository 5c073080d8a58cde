package harness

import (
	"fmt"
	"strings"
	"testing"
)

// TestServesFiles checks which contenders have their bodies verified
// against the files: not null, nor a variant that answers as it does, nor
// their base builds.
func TestServesFiles(t *testing.T) {
	for _, tt := range []struct {
		arch string
		want bool
	}{
		{"sped", true}, {"sped@base", true}, {"forking", true}, {"sped-nocache", true}, {"nginx", true},
		{"null", false}, {"null@base", false}, {"forking-null", false}, {"forking-null@base", false},
	} {
		if got := servesFiles(tt.arch); got != tt.want {
			t.Errorf("servesFiles(%q): got %v, want %v", tt.arch, got, tt.want)
		}
	}
}

// TestNullBodyArgs checks that null, and its base build, answer with the
// cell's file size where the set has one size, and nothing else does.
func TestNullBodyArgs(t *testing.T) {
	for _, tt := range []struct {
		arch string
		fs   FileSet
		want string
	}{
		{"null", FileSet{Kind: "single", SizeBytes: 51200}, "--body-size 51200"},
		{"null@base", FileSet{Kind: "fixed", Count: 4, SizeBytes: 500}, "--body-size 500"},
		{"null", FileSet{Kind: KindCGI, SizeBytes: 500}, "--body-size 500"},
		{"null", FileSet{Kind: "specweb99"}, ""},
		{"forking-null", FileSet{Kind: "single", SizeBytes: 500}, ""},
		{"sped", FileSet{Kind: "single", SizeBytes: 500}, ""},
	} {
		if got := strings.Join(nullBodyArgs(tt.arch, tt.fs), " "); got != tt.want {
			t.Errorf("nullBodyArgs(%q, %+v): got %q, want %q", tt.arch, tt.fs, got, tt.want)
		}
	}
}

// TestSweepSubset checks --values: the values kept in the experiment's
// order, once each, and one line for a value the sweep does not have or
// an experiment that sweeps nothing.
func TestSweepSubset(t *testing.T) {
	e := &Experiment{Name: "x", Sweep: &Sweep{Param: ParamFileSize, Values: []any{int64(500), int64(2000), int64(51200)}}}
	for _, tt := range []struct {
		values []string
		want   string // the values kept, or the error
	}{
		{[]string{"51200", "500"}, "[500 51200]"},
		{[]string{"2000", "2000"}, "[2000]"},
		{[]string{"500", "7"}, `values: "7" is not a file_size_bytes of x (500, 2000, 51200)`},
	} {
		sub, err := e.SweepSubset(tt.values)
		got := fmt.Sprint(err)
		if err == nil {
			got = fmt.Sprint(sub.Sweep.Values)
		}
		if got != tt.want {
			t.Errorf("SweepSubset(%q): got %s, want %s", tt.values, got, tt.want)
		}
	}
	if len(e.Sweep.Values) != 3 {
		t.Errorf("SweepSubset changed the experiment: got values %v", e.Sweep.Values)
	}
	if _, err := (&Experiment{Name: "y"}).SweepSubset([]string{"1"}); err == nil || err.Error() != "values 1: y sweeps nothing" {
		t.Errorf("SweepSubset without a sweep: got %v, want %q", err, "values 1: y sweeps nothing")
	}
}
