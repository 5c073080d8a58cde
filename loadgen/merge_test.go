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

// TestMergeUncorrected: open-loop results merge their uncorrected latency
// losslessly when every client stored its histogram, and fall back to the
// worse client's summary, without a partial histogram, when one did not.
func TestMergeUncorrected(t *testing.T) {
	ts := startServer(t, 0)
	all := loadgen.NewHistogram()
	var docs []*results.Result
	for _, values := range [][]int64{{10, 200, 3000, 45_000}, {7, 200, 999_999, 12}} {
		rep := runLoad(t, loadgen.Config{URL: ts.URL, Connections: 2, Requests: 40, Rate: 400})
		res := checkResult(t, rep)
		if _, err := res.Histogram(results.HistogramUncorrected); err != nil {
			t.Fatalf("open-loop result: %v", err)
		}
		h := loadgen.NewHistogram()
		for _, v := range values {
			h.RecordValue(v)
			all.RecordValue(v)
		}
		if err := res.SetHistogram(results.HistogramUncorrected, h); err != nil {
			t.Fatal(err)
		}
		res.OpenLoop.UncorrectedLatencyUS = results.LatencyFrom(h)
		docs = append(docs, res)
	}
	merged, err := loadgen.Merge(docs)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	got, err := merged.Histogram(results.HistogramUncorrected)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equals(all) {
		t.Errorf("merged uncorrected histogram: got %v, want %v", got.Distribution(), all.Distribution())
	}
	if want := results.LatencyFrom(all); merged.OpenLoop.UncorrectedLatencyUS != want {
		t.Errorf("open_loop.uncorrected_latency_us: got %+v, want %+v", merged.OpenLoop.UncorrectedLatencyUS, want)
	}

	worse := docs[1].OpenLoop.UncorrectedLatencyUS
	delete(docs[0].Histograms, results.HistogramUncorrected)
	merged, err = loadgen.Merge(docs)
	if err != nil {
		t.Fatalf("Merge without one uncorrected histogram: %v", err)
	}
	if _, ok := merged.Histograms[results.HistogramUncorrected]; ok {
		t.Errorf("merged with one uncorrected histogram missing: got a partial uncorrected histogram, want none")
	}
	if merged.OpenLoop.UncorrectedLatencyUS != worse {
		t.Errorf("open_loop.uncorrected_latency_us: got %+v, want the worse client's %+v", merged.OpenLoop.UncorrectedLatencyUS, worse)
	}
}

// TestMergeSClientAndAborted: the sclient object and aborted_requests add up.
func TestMergeSClientAndAborted(t *testing.T) {
	ts := startServer(t, 0)
	var docs []*results.Result
	for i := range 2 {
		rep := runLoad(t, loadgen.Config{URL: ts.URL, Connections: 2, Requests: 30, SClient: true})
		res := checkResult(t, rep)
		if res.SClient == nil {
			t.Fatalf("S-Client result: got no sclient object")
		}
		res.SClient.AbortedConnects = int64(10 * (i + 1))
		res.AbortedRequests = int64(i + 2)
		docs = append(docs, res)
	}
	merged, err := loadgen.Merge(docs)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	want := results.SClient{
		OfferedConnPerS:  docs[0].SClient.OfferedConnPerS + docs[1].SClient.OfferedConnPerS,
		AchievedConnPerS: docs[0].SClient.AchievedConnPerS + docs[1].SClient.AchievedConnPerS,
		AbortedConnects:  30,
	}
	if *merged.SClient != want {
		t.Errorf("sclient: got %+v, want %+v", *merged.SClient, want)
	}
	if merged.AbortedRequests != 5 {
		t.Errorf("aborted_requests: got %d, want 5", merged.AbortedRequests)
	}
}

// TestMergeDominantAndNotes: the merged dominant error class is that of
// the summed counts, and every client's note is kept, named.
func TestMergeDominantAndNotes(t *testing.T) {
	ts := startServer(t, 0)
	var docs []*results.Result
	for _, c := range []struct {
		path string
		n    int64
	}{{"/missing", 10}, {"/close", 30}} {
		rep := runLoad(t, loadgen.Config{URL: ts.URL + c.path, Connections: 2, Requests: c.n})
		docs = append(docs, checkResult(t, rep))
	}
	if docs[0].DominantError != results.BadStatus || docs[1].DominantError != results.ShortBody {
		t.Fatalf("clients' dominant errors: got %q, %q; want bad_status, short_body", docs[0].DominantError, docs[1].DominantError)
	}
	merged, err := loadgen.Merge(docs)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	if merged.DominantError != results.ShortBody {
		t.Errorf("merged dominant_error: got %q, want short_body (30 against 10)", merged.DominantError)
	}
	want := "client 1: " + docs[0].Note + "; client 2: " + docs[1].Note
	if merged.Note != want {
		t.Errorf("merged note: got %q, want %q", merged.Note, want)
	}
}

// TestMergeClientAndHostLoad: the client figures add up over the results
// that have them (a soak interval has none), the host load is the busiest
// client machine's figure by figure, and the inputs are left unchanged.
func TestMergeClientAndHostLoad(t *testing.T) {
	ts := startServer(t, 0)
	var docs []*results.Result
	for range 3 {
		docs = append(docs, checkResult(t, runLoad(t, loadgen.Config{URL: ts.URL, Connections: 1, Requests: 20})))
	}
	docs[0].Client = nil
	docs[1].Client = &results.Client{CPUUserS: 1, CPUSystemS: 0.5, CPUUtilization: 0.2}
	docs[2].Client = &results.Client{CPUUserS: 2, CPUSystemS: 0.25, CPUUtilization: 0.95, Saturated: true}
	docs[0].HostLoad = &results.HostLoad{LoadAverage1mStart: 3, LoadAverage1mEnd: 1, LoadAverage1mMax: 3, LoadAverage1mMean: 2}
	docs[1].HostLoad = nil
	docs[2].HostLoad = &results.HostLoad{LoadAverage1mStart: 1, LoadAverage1mEnd: 4, LoadAverage1mMax: 4, LoadAverage1mMean: 1.5,
		CPUStealFraction: 0.05}
	merged, err := loadgen.Merge(docs)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	if c := merged.Client; c == nil || *c != (results.Client{CPUUserS: 3, CPUSystemS: 0.75, CPUUtilization: 0.95, Saturated: true}) {
		t.Errorf("client: got %+v, want the sums of cpu, the largest utilization, saturated", c)
	}
	want := results.HostLoad{LoadAverage1mStart: 3, LoadAverage1mEnd: 4, LoadAverage1mMax: 4, LoadAverage1mMean: 2, CPUStealFraction: 0.05}
	if h := merged.HostLoad; h == nil || *h != want {
		t.Errorf("host_load: got %+v, want %+v", h, want)
	}
	if docs[0].Client != nil || docs[1].Client.CPUUserS != 1 || docs[0].HostLoad.LoadAverage1mEnd != 1 {
		t.Errorf("inputs changed: got clients %+v, %+v, host load %+v", docs[0].Client, docs[1].Client, docs[0].HostLoad)
	}
}
