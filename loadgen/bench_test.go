package loadgen_test

import (
	"context"
	"runtime"
	"testing"

	"flashbench/loadgen"
)

// engineModels are the connection models the engine benchmarks and the
// allocation test run against nginx.
var engineModels = []struct {
	name string
	k    int
}{
	{"keepalive", 0},
	{"close", 1},
}

// BenchmarkRun drives nginx with b.N requests: ns/op and allocs/op are per
// request (the run's fixed costs spread over b.N), and cpu-us/req is the
// client's own CPU time per request, as getrusage counts it.
func BenchmarkRun(b *testing.B) {
	for _, m := range engineModels {
		b.Run(m.name, func(b *testing.B) {
			ng := startNginx(b, map[string]int{"small": 500})
			cfg := loadgen.Config{URL: ng.URL + "/small", Connections: 16, RequestsPerConn: m.k, Requests: int64(b.N)}
			b.ReportAllocs()
			b.ResetTimer()
			rep, err := loadgen.Run(context.Background(), cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if rep.Requests != int64(b.N) || rep.Errors.Total() != 0 {
				b.Fatalf("got %d requests, errors %v; want %d, none", rep.Requests, rep.Errors, b.N)
			}
			cpu := rep.CPU.User + rep.CPU.System
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/req")
		})
	}
}

// TestNoAllocsPerRequest runs the engine against nginx twice, with few and
// with many requests: the heap allocations of the two runs must not differ
// by more than a small fixed amount, so the engine allocates nothing per
// request.
func TestNoAllocsPerRequest(t *testing.T) {
	const few, many = 500, 5500
	for _, m := range engineModels {
		t.Run(m.name, func(t *testing.T) {
			ng := startNginx(t, map[string]int{"small": 500})
			mallocs := func(n int64) uint64 {
				cfg := loadgen.Config{URL: ng.URL + "/small", Connections: 8, RequestsPerConn: m.k, Requests: n}
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				rep, err := loadgen.Run(context.Background(), cfg)
				runtime.ReadMemStats(&after)
				if err != nil || rep.Requests != n {
					t.Fatalf("Run: got %d requests, error %v; want %d", rep.Requests, err, n)
				}
				return after.Mallocs - before.Mallocs
			}
			mallocs(few) // warm up: first-use allocations of the runtime and packages
			a, b := mallocs(few), mallocs(many)
			// The slack covers per-second series intervals and runtime
			// bookkeeping; one allocation per request would be 5000.
			if b > a+200 {
				t.Errorf("heap allocations: %d for %d requests, %d for %d: got %.3f per request, want 0",
					a, few, b, many, float64(b-a)/float64(many-few))
			}
		})
	}
}
