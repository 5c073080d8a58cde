package uring_test

import (
	"errors"
	"runtime"
	"testing"

	"flashbench/servers/internal/uring"
)

// TestCQOverflow submits far more nops than the CQ holds without reaping:
// the kernel keeps the rest in its overflow list, and every completion
// still arrives exactly once.
func TestCQOverflow(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := newRing(t, uring.Options{Entries: 4, CQEntries: 4})
	if r.Features()&uring.FeatNodrop == 0 {
		t.Skip("the kernel lacks IORING_FEAT_NODROP (Linux 5.5): it drops completions that do not fit the CQ")
	}
	const n = 64
	busy := 0
	for ud := uint64(0); ud < n; {
		for ; ud < n; ud++ {
			sqe := r.GetSQE()
			if sqe == nil {
				break
			}
			sqe.PrepNop().SetUserData(ud)
		}
		if _, err := r.Submit(); errors.Is(err, uring.ErrBusy) {
			busy++ // the SQEs stay queued; the next Submit retries them
		} else if err != nil {
			t.Fatalf("Submit: %v", err)
		}
	}
	for r.SQReady() > 0 {
		if _, err := r.Submit(); err != nil {
			t.Fatalf("Submit with %d SQEs left after %d busy: %v", r.SQReady(), busy, err)
		}
	}
	if got := r.CQReady(); got != r.CQEntries() {
		t.Errorf("CQReady after %d nops: got %d, want a full CQ (%d)", n, got, r.CQEntries())
	}
	sqHead, sqTail, cqHead, cqTail := r.Indices()
	if sqTail != sqHead || cqTail-cqHead != r.CQEntries() {
		t.Errorf("indices: got SQ %d..%d, CQ %d..%d; want an empty SQ and a full CQ", sqHead, sqTail, cqHead, cqTail)
	}
	// PeekBatch alone drains it: when the CQ is empty it enters the
	// kernel to flush the overflow list.
	var all []uring.CQE
	buf := make([]uring.CQE, 3)
	for i := 0; len(all) < n && i < 10*n; i++ {
		k := r.PeekBatch(buf)
		all = append(all, buf[:k]...)
	}
	got := byUserData(t, all)
	for ud := range uint64(n) {
		if _, ok := got[ud]; !ok {
			t.Errorf("user data %d: got no completion, want one", ud)
		}
	}
	if d := r.Dropped(); d != 0 {
		t.Errorf("Dropped: got %d, want 0", d)
	}
	if busy > 0 {
		t.Logf("the kernel answered EBUSY %d times", busy)
	}
}
