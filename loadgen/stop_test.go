package loadgen_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"flashbench/loadgen"
)

// runTimeout bounds a run that must end on its own long before it: a run
// still going then is stuck, and the test fails instead of hanging.
const runTimeout = 15 * time.Second

// TestOpenLoopEndsOnBudget runs open loops whose request count or trace
// runs out while arrivals are still due and connections idle: the run must
// end with exactly the requests it was allowed, not spin on the arrivals
// it may no longer send. A rate far above what the server answers makes
// many arrivals due at once, from the first turn on.
func TestOpenLoopEndsOnBudget(t *testing.T) {
	tests := []struct {
		name  string
		cfg   loadgen.Config
		trace string // a trace workload, when set
		want  int64
	}{
		{"constant, fewer requests than connections", loadgen.Config{Connections: 8, Requests: 3, Rate: 1e6}, "", 3},
		{"constant, more requests than connections", loadgen.Config{Connections: 4, Requests: 50, Rate: 1e6}, "", 50},
		{"poisson keep-alive", loadgen.Config{Connections: 8, Requests: 5, Rate: 1e6,
			Arrival: loadgen.ArrivalPoisson, RequestsPerConn: 0}, "", 5},
		{"two threads", loadgen.Config{Connections: 8, Threads: 2, Requests: 7, Rate: 1e6, RequestsPerConn: 1}, "", 7},
		{"trace shorter than the arrivals", loadgen.Config{Connections: 8, Rate: 1e6, Duration: 5 * time.Second},
			"/size/10\n/size/20\n/size/30\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t, 0)
			cfg := tt.cfg
			cfg.URL = ts.URL + "/size/100"
			if tt.trace != "" {
				path := filepath.Join(t.TempDir(), "trace")
				if err := os.WriteFile(path, []byte(tt.trace), 0o644); err != nil {
					t.Fatal(err)
				}
				tr, err := loadgen.ReadTrace(path)
				if err != nil {
					t.Fatal(err)
				}
				cfg.Workload = tr
			}
			rep := runWithin(t, cfg, runTimeout)
			if rep.Requests != tt.want || ts.requests.Load() != tt.want {
				t.Errorf("requests: got %d (server %d), want %d", rep.Requests, ts.requests.Load(), tt.want)
			}
			if n := rep.Errors.Total(); n != 0 {
				t.Errorf("errors: got %v, want none", rep.Errors)
			}
		})
	}
}

// runWithin runs cfg and fails the test if the run has not returned
// within d. A stuck run's workers are left behind: the test binary ends
// with them.
func runWithin(t *testing.T, cfg loadgen.Config, d time.Duration) *loadgen.Report {
	t.Helper()
	type outcome struct {
		rep *loadgen.Report
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		rep, err := loadgen.Run(context.Background(), cfg)
		done <- outcome{rep, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			t.Fatalf("Run(%+v): %v", cfg, o.err)
		}
		return o.rep
	case <-time.After(d):
		t.Fatalf("Run: still running after %v, want it ended (stuck?)", d)
	}
	return nil
}
