package loadgen_test

import (
	"bytes"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"

	"flashbench/loadgen"
	"flashbench/results"
)

// TestMergeEqualsOneHistogram: merging two clients' results equals having
// recorded every sample in one histogram.
func TestMergeEqualsOneHistogram(t *testing.T) {
	ts := startServer(t, 0)
	all := loadgen.NewHistogram()
	var docs []*results.Result
	for i, values := range [][]int64{{10, 200, 3000, 45_000}, {7, 200, 999_999, 12}} {
		rep := runLoad(t, loadgen.Config{URL: ts.URL, Connections: 2, Requests: int64(50 * (i + 1)), RequestsPerConn: 0})
		res := checkResult(t, rep)
		h := loadgen.NewHistogram()
		for _, v := range values {
			h.RecordValue(v)
			all.RecordValue(v)
		}
		if err := res.SetHistogram(results.HistogramTotal, h); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, res)
	}
	merged, err := loadgen.Merge(docs)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	got, err := merged.Histogram(results.HistogramTotal)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equals(all) {
		t.Errorf("merged histogram: got %v, want %v", got.Distribution(), all.Distribution())
	}
	if merged.RequestsTotal != 150 {
		t.Errorf("requests_total: got %d, want 150", merged.RequestsTotal)
	}
	if want := results.LatencyFrom(all); merged.LatencyUS != want {
		t.Errorf("latency_us: got %+v, want %+v", merged.LatencyUS, want)
	}
}

func TestHdrLogReadsBack(t *testing.T) {
	ts := startServer(t, 0)
	rep := runLoad(t, loadgen.Config{URL: ts.URL, Connections: 2, RequestsPerConn: 0})
	var buf bytes.Buffer
	if err := loadgen.WriteHdrLog(&buf, rep); err != nil {
		t.Fatal(err)
	}
	r := hdrhistogram.NewHistogramLogReader(&buf)
	var total int64
	for {
		h, err := r.NextIntervalHistogram()
		if err != nil {
			t.Fatalf("NextIntervalHistogram: %v", err)
		}
		if h == nil {
			break
		}
		total += h.TotalCount()
	}
	if total != rep.Requests {
		t.Errorf("samples in the log: got %d, want %d", total, rep.Requests)
	}
}
