package prefork

import (
	"testing"
	"time"
)

// TestNextBackoff checks the restart delays of one slot: none after a
// long life, doubling from MinBackoff while the worker dies young, capped
// at MaxBackoff, and back to none after a long life.
func TestNextBackoff(t *testing.T) {
	s := &Server{opts: Options{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Young: time.Second}}
	backoff := make([]time.Duration, 1)
	steps := []struct {
		age  time.Duration
		want time.Duration
	}{
		{2 * time.Second, 0},
		{time.Millisecond, 10 * time.Millisecond},
		{time.Millisecond, 20 * time.Millisecond},
		{time.Millisecond, 40 * time.Millisecond},
		{time.Millisecond, 50 * time.Millisecond},
		{time.Millisecond, 50 * time.Millisecond},
		{time.Second, 0},
		{time.Millisecond, 10 * time.Millisecond},
	}
	for i, st := range steps {
		if got := s.nextBackoff(backoff, exit{age: st.age}); got != st.want {
			t.Fatalf("step %d, worker died at age %v: got delay %v, want %v", i, st.age, got, st.want)
		}
	}
}
