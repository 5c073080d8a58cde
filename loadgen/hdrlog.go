package loadgen

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// WriteHdrLog writes the per-second total-latency histograms of r as an
// HdrHistogram interval log (format 1.3), which HdrHistogram's log readers
// and HistogramLogProcessor read. Values are in microseconds; the
// Interval_Max column is in milliseconds, as the format's convention has it.
func WriteHdrLog(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	lw := hdrhistogram.NewHistogramLogWriter(bw)
	start := r.StartedAt.Add(r.Config.Warmup)
	startMs := start.UnixMilli()
	if err := lw.OutputLogFormatVersion(); err != nil {
		return fmt.Errorf("loadgen: hdr log: %w", err)
	}
	lw.OutputComment("[flashbench loadgen: total latency per second, values in microseconds]")
	lw.OutputStartTime(startMs)
	lw.OutputBaseTime(startMs)
	lw.OutputLegend()
	for _, iv := range r.Intervals {
		if iv.Length <= 0 {
			continue
		}
		payload, err := iv.Latency.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			return fmt.Errorf("loadgen: hdr log: %w", err)
		}
		fmt.Fprintf(bw, "%.3f,%.3f,%.3f,%s\n", iv.Start.Seconds(), iv.Length.Seconds(),
			float64(iv.Latency.Max())/float64(time.Millisecond/time.Microsecond), payload)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("loadgen: hdr log: %w", err)
	}
	return nil
}
