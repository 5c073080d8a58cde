package results

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram names; per-URL-class histograms are named "class_N" (ClassHistogram).
const (
	HistogramTotal   = "total"
	HistogramConnect = "connect"
	HistogramTTFB    = "ttfb"
	// HistogramUncorrected is an open-loop run's total latency measured from
	// the actual send time (total is from the intended one). Optional.
	HistogramUncorrected = "uncorrected"
)

// histogramName matches every name a document may use for a histogram.
var histogramName = regexp.MustCompile(`^(total|connect|ttfb|uncorrected|class_(0|[1-9][0-9]{0,8}))$`)

// ClassHistogram returns the histogram name for URL class n.
func ClassHistogram(n int) string { return fmt.Sprintf("class_%d", n) }

// EncodeHistogram returns h in HdrHistogram's V2 compressed encoding, base64:
// the form HdrHistogram's Java, C, Go and Rust implementations all read (the
// Java HistogramLogProcessor reads it as a log line's payload). Record values
// in microseconds: every histogram in a document is in µs.
func EncodeHistogram(h *hdrhistogram.Histogram) (string, error) {
	if h == nil {
		return "", errors.New("results: encode histogram: nil histogram")
	}
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("results: encode histogram: %w", err)
	}
	return string(b), nil
}

// DecodeHistogram decodes a histogram written by EncodeHistogram or by any
// HdrHistogram implementation's V2 compressed base64 encoding.
func DecodeHistogram(s string) (*hdrhistogram.Histogram, error) {
	h, err := decodeHistogram(s)
	if err != nil {
		return nil, fmt.Errorf("results: decode histogram: %w", err)
	}
	return h, nil
}

// decodeHistogram is DecodeHistogram with errors its callers prefix.
func decodeHistogram(s string) (*hdrhistogram.Histogram, error) {
	if s == "" {
		return nil, errors.New("empty string")
	}
	return hdrhistogram.Decode([]byte(s))
}

// LatencyFrom summarises h, whose values are in microseconds. A nil or empty
// histogram gives the zero Latency.
func LatencyFrom(h *hdrhistogram.Histogram) Latency {
	if h == nil || h.TotalCount() == 0 {
		return Latency{}
	}
	return Latency{
		P50:  h.ValueAtQuantile(50),
		P90:  h.ValueAtQuantile(90),
		P99:  h.ValueAtQuantile(99),
		P999: h.ValueAtQuantile(99.9),
		Max:  h.Max(),
		Mean: h.Mean(),
	}
}

// SetHistogram encodes h and stores it under name, which must be "total",
// "connect", "ttfb", "uncorrected" or "class_N".
func (r *Result) SetHistogram(name string, h *hdrhistogram.Histogram) error {
	if !histogramName.MatchString(name) {
		return fmt.Errorf("results: set histogram: invalid name %q (want total, connect, ttfb, uncorrected or class_N)", name)
	}
	s, err := EncodeHistogram(h)
	if err != nil {
		return err
	}
	if r.Histograms == nil {
		r.Histograms = Map[string]{}
	}
	r.Histograms[name] = s
	return nil
}

// Histogram decodes the histogram stored under name.
func (r *Result) Histogram(name string) (*hdrhistogram.Histogram, error) {
	s, ok := r.Histograms[name]
	if !ok {
		return nil, fmt.Errorf("results: histogram %q: not in result", name)
	}
	h, err := decodeHistogram(s)
	if err != nil {
		return nil, fmt.Errorf("results: histogram %q: decode: %w", name, err)
	}
	return h, nil
}
