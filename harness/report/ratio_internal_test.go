package report

import (
	"math"
	"slices"
	"testing"
)

func TestRatioVerdict(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name           string
		paper, lo, hi  float64
		paperGiven, ok bool
		want           string
	}{
		{"within the band", 2, 1.9, 2.1, true, true, RatioHolds},
		{"on the band's edges", 2, 2 / 1.1, 2.2, true, true, RatioHolds},
		{"below the band", 2, 1.5, 1.7, true, true, RatioDoesNotHold},
		{"above the band", 2, 2.3, 2.5, true, true, RatioDoesNotHold},
		{"across the lower edge", 2, 1.7, 1.9, true, true, RatioUndecided},
		{"wider than the band", 2, 1.5, 2.5, true, true, RatioUndecided},
		{"unbounded, below the band", 2, -inf, 1.7, true, true, RatioDoesNotHold},
		{"unbounded, reaching into the band", 2, -inf, 2.1, true, true, RatioUndecided},
		{"unbounded above", 2, 1.9, inf, true, true, RatioUndecided},
		{"not measured", 2, 0, 0, true, false, RatioUndecided},
		{"no paper ratio", 0, 1.9, 2.1, false, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := RatioRow{Paper: tt.paper, HasPaper: tt.paperGiven, Low: tt.lo, High: tt.hi, HasMeasured: tt.ok}
			if got := ratioVerdict(r, 0.1); got != tt.want {
				t.Errorf("ratioVerdict(paper %v, interval [%v, %v], measured %v): got %q, want %q", tt.paper, tt.lo, tt.hi, tt.ok, got, tt.want)
			}
		})
	}
}

// TestMeasurePairsRounds checks that a ratio pairs the trials of one round
// and leaves out, with why, the trials without a partner.
func TestMeasurePairsRounds(t *testing.T) {
	num := &side{value: map[int]float64{1: 200, 2: 220, 3: 180, 4: 400, 5: 210, 6: 190, 7: 205},
		id: map[int]string{1: "a-1", 2: "a-2", 3: "a-3", 4: "a-4", 5: "a-5", 6: "a-6", 7: "a-7"}, left: []string{"a-8: client-bound"}}
	den := &side{value: map[int]float64{1: 100, 2: 110, 3: 90, 5: 105, 6: 95, 7: 100, 9: 100},
		id: map[int]string{1: "b-1", 2: "b-2", 3: "b-3", 5: "b-5", 6: "b-6", 7: "b-7", 9: "b-9"}}
	r := RatioRow{Paper: 2, HasPaper: true}
	r.measure(num, den, 0.1)
	// Rounds 1, 2, 3, 5, 6, 7 pair: ratios 2, 2, 2, 2, 2, 2.05; a-4 and b-9 have no partner.
	if r.Rounds != 6 || !r.HasMeasured || r.Measured != 2 || r.Low != 2 || r.High != 2.05 || r.Verdict != RatioHolds {
		t.Errorf("got %d rounds, measured %v [%v, %v], %s; want 6, 2 [2, 2.05], holds", r.Rounds, r.Measured, r.Low, r.High, r.Verdict)
	}
	want := []string{"a-4: its round 4 has no server-bound partner", "a-8: client-bound", "b-9: its round 9 has no server-bound partner"}
	if got := slices.Sorted(slices.Values(r.Left)); !slices.Equal(got, want) {
		t.Errorf("left out: got %q, want %q", got, want)
	}
}
