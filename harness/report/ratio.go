package report

import (
	"fmt"
	"maps"
	"slices"
)

// Ratio verdicts: what the measured ratio's interval says of the paper's.
const (
	// RatioHolds: the interval lies within the paper's ratio's band.
	RatioHolds = "holds"
	// RatioDoesNotHold: the interval lies wholly outside the band.
	RatioDoesNotHold = "does not hold"
	// RatioUndecided: the interval straddles an edge of the band, or is
	// unbounded, or there is no server-bound round to measure.
	RatioUndecided = "undecided"
)

// RatioTolerance is the default width of a paper ratio's band: a measured
// ratio holds within a factor 1+RatioTolerance of the paper's either way
// ([paper] tolerance overrides it). Absolute numbers do not carry over
// from 1999 hardware; a ratio within a tenth of the paper's reproduces it.
const RatioTolerance = 0.1

// side is one contender of a ratio at one setting (an architecture, or a
// value of the swept parameter): the metric of its server-bound trials by
// round, and the trials left out, each with why.
type side struct {
	value map[int]float64
	id    map[int]string
	left  []string
}

// sides gathers every group's side, keyed by arch + "\x00" + setting key.
func sides(groups []*Group, m Metric) map[string]*side {
	out := map[string]*side{}
	for _, g := range groups {
		s := &side{value: map[int]float64{}, id: map[int]string{}}
		for i, p := range g.Points {
			if ok, why := serverBound(p); ok {
				s.value[p.Trial], s.id[p.Trial] = m.Value(g.Results[i]), p.ID
			} else {
				s.left = append(s.left, p.ID+": "+why)
			}
		}
		out[g.Arch+"\x00"+g.Key] = s
	}
	return out
}

// measure sets r's measured ratio, its interval and verdict from the
// per-round ratios of num over den (either may be nil: not measured).
//
// The interval is computed from the per-round ratios, not from the two
// sides' own intervals: trial t of each side ran in round t, one pass over
// the contenders, so what drifted between rounds (other load, the page
// cache, the machine's clock speed) cancels within each round's ratio.
// The rounds whose two trials are both server-bound give the sample; its
// median is the measured ratio, and benchmath's confidence interval of
// that median (AssumeNothing, at Confidence: order statistics, no
// distribution assumed) is the interval the verdict reads. A server-bound
// trial whose partner of the same round is not is left out too.
func (r *RatioRow) measure(num, den *side, tolerance float64) {
	var ratios []float64
	for _, s := range []*side{num, den} {
		if s != nil {
			r.Left = append(r.Left, s.left...)
		}
	}
	if num != nil && den != nil {
		for _, t := range slices.Sorted(maps.Keys(num.value)) {
			if y, ok := den.value[t]; ok && y > 0 {
				ratios = append(ratios, num.value[t]/y)
			} else {
				r.Left = append(r.Left, fmt.Sprintf("%s: its round %d has no server-bound partner", num.id[t], t))
			}
		}
		for _, t := range slices.Sorted(maps.Keys(den.value)) {
			if _, ok := num.value[t]; !ok {
				r.Left = append(r.Left, fmt.Sprintf("%s: its round %d has no server-bound partner", den.id[t], t))
			}
		}
	}
	r.Rounds = len(ratios)
	if len(ratios) > 0 {
		s := Interval(ratios)
		r.Measured, r.Low, r.High, r.HasMeasured = s.Center, s.Lo, s.Hi, true
	}
	r.Verdict = ratioVerdict(*r, tolerance)
}

// ratioVerdict compares r's interval with the band of its paper ratio,
// [paper/(1+tolerance), paper*(1+tolerance)]: holds when the interval lies
// within it, does not hold when wholly outside, undecided otherwise; ""
// when the paper gives no ratio here.
func ratioVerdict(r RatioRow, tolerance float64) string {
	if !r.HasPaper {
		return ""
	}
	lo, hi := r.Paper/(1+tolerance), r.Paper*(1+tolerance)
	switch {
	case !r.HasMeasured:
		return RatioUndecided
	case r.Low >= lo && r.High <= hi:
		return RatioHolds
	case r.High < lo || r.Low > hi:
		return RatioDoesNotHold
	}
	return RatioUndecided
}
