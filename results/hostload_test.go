package results_test

import (
	"testing"

	"flashbench/results"
)

func TestNoisy(t *testing.T) {
	tests := []struct {
		name string
		h    results.HostLoad
		cpus int
		want string
	}{
		{"quiet", results.HostLoad{LoadAverage1mMax: 1.9, CPUStealFraction: 0.009}, 2, ""},
		{"load at the CPUs", results.HostLoad{LoadAverage1mMax: 2}, 2, ""},
		{"load above the CPUs", results.HostLoad{LoadAverage1mMax: 2.5}, 2, "load average up to 2.50 on 2 CPUs"},
		{"steal", results.HostLoad{LoadAverage1mMax: 0.5, CPUStealFraction: 0.01}, 2, "1.0% of the CPU time stolen"},
		{"both", results.HostLoad{LoadAverage1mMax: 30.81, CPUStealFraction: 0.125}, 2,
			"load average up to 30.81 on 2 CPUs, 12.5% of the CPU time stolen"},
		{"CPUs unknown", results.HostLoad{LoadAverage1mMax: 30}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.Noisy(tt.cpus); got != tt.want {
				t.Errorf("Noisy(%d) of %+v: got %q, want %q", tt.cpus, tt.h, got, tt.want)
			}
		})
	}
}

func TestWorstHostLoad(t *testing.T) {
	a := &results.HostLoad{LoadAverage1mStart: 3, LoadAverage1mEnd: 1, LoadAverage1mMax: 3, LoadAverage1mMean: 2}
	b := &results.HostLoad{LoadAverage1mStart: 1, LoadAverage1mEnd: 4, LoadAverage1mMax: 4, LoadAverage1mMean: 1.5, CPUStealFraction: 0.05}
	want := results.HostLoad{LoadAverage1mStart: 3, LoadAverage1mEnd: 4, LoadAverage1mMax: 4, LoadAverage1mMean: 2, CPUStealFraction: 0.05}
	if got := results.WorstHostLoad(a, b); got == nil || *got != want || got == a || got == b {
		t.Errorf("WorstHostLoad: got %+v, want a new %+v", got, want)
	}
	if got := results.WorstHostLoad(nil, a); got == nil || *got != *a || got == a {
		t.Errorf("WorstHostLoad(nil, a): got %+v, want a copy of %+v", got, *a)
	}
	if got := results.WorstHostLoad(nil, nil); got != nil {
		t.Errorf("WorstHostLoad(nil, nil): got %+v, want nil", got)
	}
	if got, want := b.String(), "load average (1 min) 1.00 to 4.00, max 4.00, mean 1.50; CPU steal 5.0%"; got != want {
		t.Errorf("String: got %q, want %q", got, want)
	}
}
