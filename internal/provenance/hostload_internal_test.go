package provenance

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParseCPUTimes(t *testing.T) {
	tests := []struct {
		name, in     string
		total, steal uint64
		ok           bool
	}{
		{"with guest columns", "cpu  100 5 50 800 10 1 4 30 7 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n", 1000, 30, true},
		{"without guest columns", "cpu  100 5 50 800 10 1 4 30\n", 1000, 30, true},
		{"no steal column", "cpu  100 5 50 800 10 1 4\n", 0, 0, false},
		{"per-cpu line first", "cpu0 100 5 50 800 10 1 4 30\n", 0, 0, false},
		{"garbage", "cpu  100 5 x 800 10 1 4 30\n", 0, 0, false},
		{"empty", "", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCPUTimes(tt.in)
			if (err == nil) != tt.ok || got.total != tt.total || got.steal != tt.steal {
				t.Errorf("parseCPUTimes(%q): got %+v, %v; want total %d, steal %d, ok %t", tt.in, got, err, tt.total, tt.steal, tt.ok)
			}
		})
	}
}

func TestStealSince(t *testing.T) {
	tests := []struct {
		name          string
		before, after cpuTimes
		want          float64
	}{
		{"a tenth stolen", cpuTimes{1000, 30}, cpuTimes{2000, 130}, 0.1},
		{"none stolen", cpuTimes{1000, 30}, cpuTimes{1500, 30}, 0},
		{"no time passed", cpuTimes{1000, 30}, cpuTimes{1000, 30}, 0},
		{"counters went back", cpuTimes{1000, 30}, cpuTimes{900, 20}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.after.stealSince(tt.before); got != tt.want {
				t.Errorf("stealSince(%+v) of %+v: got %v, want %v", tt.before, tt.after, got, tt.want)
			}
		})
	}
}

func TestParseLoadAverage(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"6.27 2.05 0.73 5/195 14828\n", 6.27, true},
		{"0.00 0.01 0.05 1/80 1\n", 0, true},
		{"", 0, false},
		{"high 1 1 1/1 1", 0, false},
		{"-1 0 0 1/1 1", 0, false},
	}
	for _, tt := range tests {
		got, err := parseLoadAverage(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseLoadAverage(%q): got %v, %v; want %v, ok %t", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestHostLoadFromFiles samples files that stand for /proc: the load
// average rises during the measurement, and a fifth of the CPU time
// since its start is stolen.
func TestHostLoadFromFiles(t *testing.T) {
	dir := t.TempDir()
	loadavg, stat := filepath.Join(dir, "loadavg"), filepath.Join(dir, "stat")
	write := func(path, s string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(loadavg, "1.50 1.00 0.50 1/100 10\n")
	write(stat, "cpu  100 0 100 700 0 0 0 100 0 0\n")
	defer func(l, s string) { loadavgPath, statPath = l, s }(loadavgPath, statPath)
	loadavgPath, statPath = loadavg, stat

	h := StartHostLoad(0)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		h.mu.Lock()
		started := h.n > 0
		h.mu.Unlock()
		if started || time.Now().After(deadline) {
			break
		}
	}
	write(loadavg, "4.50 1.00 0.50 1/100 10\n")
	time.Sleep(loadSamplePeriod + 200*time.Millisecond)
	write(loadavg, "3.00 1.00 0.50 1/100 10\n")
	write(stat, "cpu  150 0 150 1000 0 0 0 200 0 0\n")
	got := h.Stop()
	if got == nil {
		t.Fatal("Stop: got nil, want the load measured")
	}
	if got.LoadAverage1mStart != 1.5 || got.LoadAverage1mEnd != 3 || got.LoadAverage1mMax != 4.5 {
		t.Errorf("got start %v, end %v, max %v; want 1.5, 3, 4.5", got.LoadAverage1mStart, got.LoadAverage1mEnd, got.LoadAverage1mMax)
	}
	if got.LoadAverage1mMean <= 1.5 || got.LoadAverage1mMean >= 4.5 {
		t.Errorf("mean: got %v, want between the start 1.5 and the max 4.5", got.LoadAverage1mMean)
	}
	if got.CPUStealFraction != 0.2 {
		t.Errorf("steal: got %v, want 0.2 (100 of 500 jiffies)", got.CPUStealFraction)
	}

	loadavgPath = filepath.Join(dir, "absent")
	if got := StartHostLoad(0); got.Stop() != nil {
		t.Errorf("without a load average: got a measurement, want nil")
	}
}
