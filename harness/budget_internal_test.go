package harness

import (
	"testing"
	"time"
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
