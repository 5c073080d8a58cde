package report

import (
	"math"
	"strconv"

	"golang.org/x/perf/benchmath"
)

// Confidence is the level of the confidence intervals reports and
// comparisons show.
const Confidence = 0.95

// Interval summarises v as benchstat does: its median and the confidence
// interval of the median at Confidence, from the order statistics
// (benchmath's AssumeNothing: no distribution assumed). Fewer than 6
// values leave the interval unbounded on at least one side.
func Interval(v []float64) benchmath.Summary {
	return benchmath.AssumeNothing.Summary(benchmath.NewSample(v, &benchmath.DefaultThresholds), Confidence)
}

// CICell formats the median of v with its confidence interval as a share
// of it, benchstat's way: "1234 ±3%", "1234 ±∞" when there are too few
// values for an interval, "–" for none.
func CICell(v []float64) string {
	if len(v) == 0 {
		return "–"
	}
	s := Interval(v)
	return FormatValue(s.Center) + " ±" + s.PctRangeString()
}

// formatBound formats an interval bound: a ratio with two decimals, or
// ±∞.
func formatBound(x float64) string {
	switch {
	case math.IsInf(x, -1):
		return "−∞"
	case math.IsInf(x, 1):
		return "∞"
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

// formatRatio formats a ratio: two decimals, none from 10 up, two
// significant digits below 0.1 (forking's 0.0029 of nginx is not 0.00),
// ±∞ for an unbounded side of an interval.
func formatRatio(r float64) string {
	switch a := math.Abs(r); {
	case math.IsInf(r, 0):
		return formatBound(r)
	case a >= 10:
		return strconv.FormatFloat(r, 'f', 0, 64)
	case a > 0 && a < 0.1:
		return strconv.FormatFloat(r, 'g', 2, 64)
	}
	return strconv.FormatFloat(r, 'f', 2, 64)
}
