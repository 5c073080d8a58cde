package results_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"

	"flashbench/results"
)

func TestHistogramRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		record func(t *testing.T, h *hdrhistogram.Histogram)
	}{
		{"empty", func(t *testing.T, h *hdrhistogram.Histogram) {}},
		{"one value", func(t *testing.T, h *hdrhistogram.Histogram) { recordSpread(t, h, 7, 1, 250, 251) }},
		{"spread", func(t *testing.T, h *hdrhistogram.Histogram) { recordSpread(t, h, 8, 100_000, 30, 90_000) }},
		{"long tail", func(t *testing.T, h *hdrhistogram.Histogram) {
			recordSpread(t, h, 9, 10_000, 100, 1_000)
			recordSpread(t, h, 10, 10, 5_000_000, 60_000_000) // timeouts are recorded, not dropped
		}},
	}
	quantiles := []float64{0, 10, 50, 90, 99, 99.9, 99.99, 100}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistogram()
			tt.record(t, h)
			s, err := results.EncodeHistogram(h)
			if err != nil {
				t.Fatalf("EncodeHistogram: %v", err)
			}
			got, err := results.DecodeHistogram(s)
			if err != nil {
				t.Fatalf("DecodeHistogram: %v", err)
			}
			if got.TotalCount() != h.TotalCount() {
				t.Errorf("total count: got %d, want %d", got.TotalCount(), h.TotalCount())
			}
			if !got.Equals(h) {
				t.Errorf("decoded histogram differs from the encoded one")
			}
			for _, q := range quantiles {
				if g, w := got.ValueAtQuantile(q), h.ValueAtQuantile(q); g != w {
					t.Errorf("p%v: got %d, want %d", q, g, w)
				}
			}
			if g, w := results.LatencyFrom(got), results.LatencyFrom(h); g != w {
				t.Errorf("LatencyFrom(decoded): got %+v, want %+v", g, w)
			}
		})
	}
}

func TestLatencyFrom(t *testing.T) {
	h := newHistogram()
	for v := int64(1); v <= 1000; v++ { // exact below 2048 at 3 digits
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	want := results.Latency{P50: 500, P90: 900, P99: 990, P999: 999, Max: 1000, Mean: 500.5}
	if got := results.LatencyFrom(h); got != want {
		t.Errorf("LatencyFrom(1..1000 µs): got %+v, want %+v", got, want)
	}
	if got := results.LatencyFrom(nil); got != (results.Latency{}) {
		t.Errorf("LatencyFrom(nil): got %+v, want zero", got)
	}
	if got := results.LatencyFrom(newHistogram()); got != (results.Latency{}) {
		t.Errorf("LatencyFrom(empty): got %+v, want zero", got)
	}
}

// TestLatencyFromMonotone checks that what LatencyFrom computes always passes
// validation, whatever the distribution.
func TestLatencyFromMonotone(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		h := newHistogram()
		recordSpread(t, h, seed, int(seed*37), 1, int64(seed)*100_000)
		r := minimalResult()
		r.LatencyUS = results.LatencyFrom(h)
		if err := r.SetHistogram(results.HistogramTotal, h); err != nil {
			t.Fatal(err)
		}
		if err := r.Validate(); err != nil {
			t.Errorf("seed %d: Validate(LatencyFrom(h)): %v", seed, err)
		}
	}
}

func TestDecodeHistogramRejects(t *testing.T) {
	h := newHistogram()
	recordSpread(t, h, 11, 1000, 1, 10_000)
	valid, err := results.EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, in, want string }{
		{"empty", "", "empty string"},
		{"not base64", "%%%", "illegal base64"},
		{"short", "AAAA", "too short"},
		{"wrong cookie", "AAAAAAAAAAAAAAAA", "encoding not supported"},
		{"truncated", valid[:len(valid)/2], ""},
		{"corrupt payload", valid[:20] + strings.Repeat("A", len(valid)-20), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := results.DecodeHistogram(tt.in)
			if err == nil {
				t.Fatalf("DecodeHistogram(%q): got no error", tt.in)
			}
			if !strings.HasPrefix(err.Error(), "results: decode histogram: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DecodeHistogram(%q): got %q, want %q after prefix results: decode histogram:", tt.in, err, tt.want)
			}
		})
	}
}

func TestSetHistogram(t *testing.T) {
	r := minimalResult()
	h := newHistogram()
	recordSpread(t, h, 12, 100, 10, 1000)
	for _, name := range []string{"total", "connect", "ttfb", "uncorrected", "class_0", "class_3"} {
		if err := r.SetHistogram(name, h); err != nil {
			t.Errorf("SetHistogram(%q): %v", name, err)
		}
		got, err := r.Histogram(name)
		if err != nil {
			t.Fatalf("Histogram(%q): %v", name, err)
		}
		if !got.Equals(h) {
			t.Errorf("Histogram(%q): got a histogram that differs from the one set", name)
		}
	}
	for _, name := range []string{"", "Total", "p99", "corrected", "uncorrected_0", "class_", "class_-1", "class_01", "class_x"} {
		if err := r.SetHistogram(name, h); err == nil {
			t.Errorf("SetHistogram(%q): got no error, want invalid name", name)
		}
	}
	if err := r.SetHistogram("total", nil); err == nil {
		t.Errorf("SetHistogram(nil): got no error")
	}
	if _, err := r.Histogram("class_9"); err == nil || !strings.Contains(err.Error(), "not in result") {
		t.Errorf("Histogram(absent): got %v, want not in result", err)
	}
}

// TestHistogramLogInterop writes the total histogram as one interval line of
// an HdrHistogram log, as the README shows, and reads it back with
// hdrhistogram-go's log reader, which follows the Java log format.
func TestHistogramLogInterop(t *testing.T) {
	r, err := results.Read(goldenV1)
	if err != nil {
		t.Fatal(err)
	}
	log := fmt.Sprintf("#[StartTime: 0 (seconds since epoch)]\n0.000,%v,%d,%s\n",
		r.DurationS, r.LatencyUS.Max, r.Histograms[results.HistogramTotal])
	h, err := hdrhistogram.NewHistogramLogReader(strings.NewReader(log)).NextIntervalHistogram()
	if err != nil {
		t.Fatalf("read log: %v", err)
	}
	if h == nil {
		t.Fatalf("read log: got no histogram")
	}
	if got := results.LatencyFrom(h); got != r.LatencyUS {
		t.Errorf("latency from the log's histogram: got %+v, want %+v", got, r.LatencyUS)
	}
}
