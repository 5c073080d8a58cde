package amped_test

import (
	"testing"
	"time"

	"flashbench/servers/amped"
	"flashbench/servers/httpcore"
)

// BenchmarkEvictedPass measures the first pass over a cold file set, the
// disk-bound case of the Flash paper: each iteration evicts the set,
// starts a fresh server (a running one's mappings would keep the pages)
// and fetches every file once with 32 concurrent keep-alive clients. SPED
// reads the disk on its only thread; AMPED's helpers read it in parallel
// while the loop serves. Report: go test -bench EvictedPass -benchtime 5x.
func BenchmarkEvictedPass(b *testing.B) {
	dir, m := evictedSet(b, 400, 256<<10)
	for _, arch := range []struct {
		name    string
		helpers int
	}{{"sped", 0}, {"amped", amped.DefaultHelpers}, {"amped-4", 4}, {"amped-16", 16}} {
		b.Run(arch.name, func(b *testing.B) {
			var total time.Duration
			for range b.N {
				b.StopTimer()
				evict(b, dir, m)
				s := startServer(b, httpcore.Config{Root: dir}, "", arch.helpers)
				b.StartTimer()
				start := time.Now()
				fetchAll(b, s.addr, m, 32, false)
				total += time.Since(start)
				b.StopTimer()
				s.stop()
			}
			b.ReportMetric(float64(m.TotalBytes)*float64(b.N)/total.Seconds()/(1<<20), "MiB/s")
			b.ReportMetric(float64(len(m.Files))*float64(b.N)/total.Seconds(), "files/s")
		})
	}
}
