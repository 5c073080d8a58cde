package provenance_test

import (
	"testing"
	"time"

	"flashbench/internal/provenance"
)

// TestHostLoad samples this machine's real load over a second.
func TestHostLoad(t *testing.T) {
	h := provenance.StartHostLoad(0)
	time.Sleep(1200 * time.Millisecond)
	got := h.Stop()
	if got == nil {
		t.Fatal("Stop: got nil, want this machine's load")
	}
	if got.LoadAverage1mMax < got.LoadAverage1mStart || got.LoadAverage1mMax < got.LoadAverage1mEnd ||
		got.LoadAverage1mMean > got.LoadAverage1mMax || got.LoadAverage1mStart < 0 {
		t.Errorf("got %+v, want 0 <= start, end, mean <= max", *got)
	}
	if got.CPUStealFraction < 0 || got.CPUStealFraction > 1 {
		t.Errorf("steal: got %v, want 0..1", got.CPUStealFraction)
	}
}

// TestHostLoadStoppedEarly: a run stopped during its warm-up measured
// nothing.
func TestHostLoadStoppedEarly(t *testing.T) {
	if got := provenance.StartHostLoad(time.Hour).Stop(); got != nil {
		t.Errorf("got %+v, want nil", *got)
	}
}
