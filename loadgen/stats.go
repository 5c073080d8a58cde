package loadgen

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// ErrorClass is one kind of failure; the engine counts failures by class.
type ErrorClass uint8

// The error classes.
const (
	ConnectRefused ErrorClass = iota
	ConnectTimeout
	Reset
	ReadError
	WriteError
	Timeout
	BadStatus
	ShortBody
	ChecksumMismatch
	AddrExhausted
	NumErrorClasses
)

var errorClassNames = [NumErrorClasses]string{
	"connect_refused", "connect_timeout", "reset", "read", "write", "timeout",
	"bad_status", "short_body", "checksum_mismatch", "addr_exhausted",
}

// String returns the class's snake_case name.
func (e ErrorClass) String() string {
	if e < NumErrorClasses {
		return errorClassNames[e]
	}
	return "unknown"
}

// Errors counts failures by class.
type Errors [NumErrorClasses]int64

// Total returns the number of failures of every class.
func (e *Errors) Total() int64 {
	var n int64
	for _, v := range e {
		n += v
	}
	return n
}

// Histogram bounds: 1 µs to 60 s with 3 significant digits, values in µs.
const (
	HistMinUS  = 1
	HistMaxUS  = 60_000_000
	HistDigits = 3
)

// NewHistogram returns an empty histogram with loadgen's bounds.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(HistMinUS, HistMaxUS, HistDigits)
}

// record adds a duration in nanoseconds, clamped into the histogram's range
// so that no sample is ever dropped.
func record(h *hdrhistogram.Histogram, ns int64) {
	us := ns / 1000
	if us < HistMinUS {
		us = HistMinUS
	} else if us > HistMaxUS {
		us = HistMaxUS
	}
	h.RecordValue(us)
}

// Counts are the additive counters of a run or of one interval.
type Counts struct {
	Requests       int64 // complete responses
	Bytes          int64 // response bytes, headers included
	Connections    int64 // connections established
	ConnectAttempt int64 // connection attempts
	Late           int64 // open loop: sends more than LateThreshold late
	// AbortedConnects counts S-Client connection attempts aborted for not
	// being established within the connect timeout (also counted as
	// connect_timeout errors).
	AbortedConnects int64
	Errors          Errors
}

func (c *Counts) add(o *Counts) {
	c.Requests += o.Requests
	c.Bytes += o.Bytes
	c.Connections += o.Connections
	c.ConnectAttempt += o.ConnectAttempt
	c.Late += o.Late
	c.AbortedConnects += o.AbortedConnects
	for i := range c.Errors {
		c.Errors[i] += o.Errors[i]
	}
}

// Interval is one second (or the last, partial one) of the measurement.
type Interval struct {
	Start   time.Duration // from the start of the measurement
	Length  time.Duration
	Counts  Counts
	Latency *hdrhistogram.Histogram // corrected total latency, µs
}

// Histograms are the latency distributions of a run, in microseconds.
type Histograms struct {
	// Latency is the total latency, measured in an open loop from the
	// intended send time (coordinated omission corrected).
	Latency *hdrhistogram.Histogram
	// Uncorrected is the total latency from the actual send time.
	Uncorrected *hdrhistogram.Histogram
	// Connect is the time to establish a connection.
	Connect *hdrhistogram.Histogram
	// TTFB is the time from the send to the first response byte.
	TTFB *hdrhistogram.Histogram
	// Classes holds the total latency per URL class (nil where unused).
	Classes []*hdrhistogram.Histogram
}

func newHistograms(classes int) Histograms {
	h := Histograms{Latency: NewHistogram(), Uncorrected: NewHistogram(), Connect: NewHistogram(), TTFB: NewHistogram()}
	h.Classes = make([]*hdrhistogram.Histogram, classes)
	return h
}

// merge adds o into h losslessly (same geometry).
func (h *Histograms) merge(o *Histograms) {
	h.Latency.Merge(o.Latency)
	h.Uncorrected.Merge(o.Uncorrected)
	h.Connect.Merge(o.Connect)
	h.TTFB.Merge(o.TTFB)
	for len(h.Classes) < len(o.Classes) {
		h.Classes = append(h.Classes, nil)
	}
	for i, c := range o.Classes {
		if c == nil {
			continue
		}
		if h.Classes[i] == nil {
			h.Classes[i] = NewHistogram()
		}
		h.Classes[i].Merge(c)
	}
}

// stats is one worker's measurements; only that worker touches it.
type stats struct {
	Histograms
	total    Counts
	interval Counts
	ivHist   *hdrhistogram.Histogram
	ivIndex  int64
	out      chan<- Interval
	// last is when the last measured response completed, ns since the
	// run's start; 0 when none did.
	last int64
}

// flushTo closes the current interval if now (ns since measurement start)
// is past it, and hands it to the collector.
func (s *stats) flushTo(now int64, final bool) {
	idx := now / int64(time.Second)
	if !final && idx <= s.ivIndex {
		return
	}
	start := s.ivIndex * int64(time.Second)
	length := int64(time.Second)
	if final {
		length = max(now-start, 0)
	}
	if s.interval != (Counts{}) || s.ivHist.TotalCount() > 0 || final {
		s.out <- Interval{Start: time.Duration(start), Length: time.Duration(length), Counts: s.interval, Latency: s.ivHist.Clone()}
	}
	s.interval = Counts{}
	s.ivHist.Reset()
	s.ivIndex = idx
}
