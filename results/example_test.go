package results_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"flashbench/results"
)

// Example fills a result from a latency histogram in microseconds, writes it
// atomically and reads it back.
func Example() {
	h := hdrhistogram.New(1, 60_000_000, 3) // 1 µs to 60 s, 3 significant digits
	for v := int64(100); v <= 1000; v += 100 {
		if err := h.RecordValue(v); err != nil {
			log.Fatal(err)
		}
	}
	r := &results.Result{
		SchemaVersion: results.SchemaVersion,
		Tool:          "loadgen",
		StartedAt:     time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC),
		DurationS:     1,
		RequestsTotal: h.TotalCount(),
		ThroughputRPS: float64(h.TotalCount()),
		LatencyUS:     results.LatencyFrom(h),
	}
	if err := r.Errors.Add(results.Timeout, 1); err != nil {
		log.Fatal(err)
	}
	r.ErrorsTotal = r.Errors.Total()
	if err := r.SetHistogram(results.HistogramTotal, h); err != nil {
		log.Fatal(err)
	}

	dir, err := os.MkdirTemp("", "results-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "run.json")
	if err := results.Write(path, r); err != nil {
		log.Fatal(err)
	}

	back, err := results.Read(path)
	if err != nil {
		log.Fatal(err)
	}
	total, err := back.Histogram(results.HistogramTotal)
	if err != nil {
		log.Fatal(err)
	}
	l := back.LatencyUS
	fmt.Printf("p50 %d µs, p99 %d µs, max %d µs, mean %.0f µs\n", l.P50, l.P99, l.Max, l.Mean)
	fmt.Printf("histogram holds %d values, errors_total %d\n", total.TotalCount(), back.ErrorsTotal)
	// Output:
	// p50 500 µs, p99 1000 µs, max 1000 µs, mean 550 µs
	// histogram holds 10 values, errors_total 1
}
