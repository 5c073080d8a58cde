package harness

import (
	"math"
	"testing"
	"time"

	"flashbench/harness/topology"
	"flashbench/results"
)

// TestWindowAccount checks the interpolation of a CPU cgroup's counters at
// the ends of a measurement window.
func TestWindowAccount(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	// 0.3 s of CPU per second, 100 periods per second, all throttled.
	samples := []cpuSample{
		{ms(0), CPUAccount{Usage: 0, Periods: 0, Throttled: 0}},
		{ms(100), CPUAccount{Usage: 30 * time.Millisecond, Periods: 10, Throttled: 10, ThrottledTime: 70 * time.Millisecond}},
		{ms(200), CPUAccount{Usage: 60 * time.Millisecond, Periods: 20, Throttled: 20, ThrottledTime: 140 * time.Millisecond}},
		{ms(1200), CPUAccount{Usage: 360 * time.Millisecond, Periods: 120, Throttled: 120, ThrottledTime: 840 * time.Millisecond}},
	}
	tests := []struct {
		name     string
		from, to time.Time
		want     CPUAccount
		ok       bool
	}{
		{"on samples", ms(100), ms(200), CPUAccount{30 * time.Millisecond, 10, 10, 70 * time.Millisecond}, true},
		{"between samples", ms(50), ms(700), CPUAccount{195 * time.Millisecond, 65, 65, 455 * time.Millisecond}, true},
		{"before the first", ms(-500), ms(100), CPUAccount{30 * time.Millisecond, 10, 10, 70 * time.Millisecond}, true},
		{"after the last", ms(1100), ms(5000), CPUAccount{30 * time.Millisecond, 10, 10, 70 * time.Millisecond}, true},
		{"empty window", ms(300), ms(300), CPUAccount{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := windowAccount(samples, tt.from, tt.to)
			if ok != tt.ok || got != tt.want {
				t.Errorf("windowAccount(%v, %v): got %+v, %v; want %+v, %v", tt.from.Sub(t0), tt.to.Sub(t0), got, ok, tt.want, tt.ok)
			}
		})
	}
	if _, ok := windowAccount(samples[:1], ms(0), ms(100)); ok {
		t.Errorf("windowAccount with one sample: got ok, want false")
	}
}

func TestRateBits(t *testing.T) {
	for _, tt := range []struct {
		rate string
		want float64
	}{
		{"100mbit", 100e6}, {"1gbit", 1e9}, {"512kbit", 512e3}, {"12.5mbps", 100e6}, {"800bit", 800}, {"1000bps", 8000},
		{"", 0}, {"fast", 0}, {"xmbit", 0},
	} {
		if got := rateBits(tt.rate); got != tt.want {
			t.Errorf("rateBits(%q): got %v, want %v", tt.rate, got, tt.want)
		}
	}
}

// TestBudgetOfWindows checks which window each figure is over: a server
// at its 0.1-core budget for the 1 s the client kept it busy, then idle
// through a 0.5 s drain. Its CPU time and CPU per request are over the
// whole window, its use of the budget over the busy second: 1, not 0.67.
func TestBudgetOfWindows(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var samples []cpuSample
	for ms := 0; ms <= 1500; ms += 50 {
		busy := time.Duration(min(ms, 1000)) * time.Millisecond / 10 // 0.1 core until 1 s
		samples = append(samples, cpuSample{t0.Add(time.Duration(ms) * time.Millisecond), CPUAccount{Usage: busy}})
	}
	r := &runner{o: Options{Topology: &topology.Local{ServerCPUs: []int{0}}}, budget: budget{cores: 0.1, version: 2}}
	res := &results.Result{StartedAt: t0, DurationS: 1.5, RequestsTotal: 1000}
	res.Config.DurationS = 1
	b := r.budgetOf(res, samples)
	if math.Abs(b.ServerCPUS-0.1) > 1e-9 || math.Abs(b.ServerCPUPerRequestUS-100) > 1e-6 || math.Abs(b.ServerUtilization-1) > 1e-9 {
		t.Errorf("got %.4f s, %.2f µs per request, use %.3f; want 0.1 s, 100 µs, 1", b.ServerCPUS, b.ServerCPUPerRequestUS, b.ServerUtilization)
	}
	if b.ServerCPUCores != 0.1 || b.PeriodUS != 10000 || b.CgroupVersion != 2 {
		t.Errorf("got budget %+v, want 0.1 cores, 10 ms, v2", *b)
	}
	// Unbudgeted: /proc, before and after, over the whole window.
	r.budget = budget{cores: 0.1, off: "no CPU controller"}
	res.Server.CPUUserS, res.Server.CPUSystemS = new(0.5), new(0.25)
	if b := r.budgetOf(res, nil); b.ServerCPUCores != 0 || b.ServerCPUS != 0.75 || b.ServerUtilization != 0.5 || b.UnbudgetedReason == "" {
		t.Errorf("unbudgeted: got %+v, want 0 cores, 0.75 s, use 0.5 of one CPU, the reason", *b)
	}
}
