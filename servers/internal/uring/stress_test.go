package uring_test

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"flashbench/servers/internal/uring"
)

// TestConcurrentReap reaps in one goroutine while another submits, so
// that the kernel writes CQEs (a third of them from its worker threads)
// while they are read. PeekBatch poisons every slot it read before it
// releases it: a read that overtook the kernel's write of a slot, or ran
// past the tail, would return the poison or a completion twice. Run it
// with -race: the two goroutines share the Ring and must not race on it.
func TestConcurrentReap(t *testing.T) {
	r := newRing(t, uring.Options{Entries: 8, CQEntries: 16})
	r.PoisonReaped(true)
	const n = 100000
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() { errc <- produce(r, n, done) }()

	seen := make([]bool, n+1)
	cqes := make([]uring.CQE, 16)
	deadline := time.Now().Add(20 * time.Second)
	for got := 0; got < n; {
		k := r.PeekBatch(cqes)
		for _, c := range cqes[:k] {
			switch {
			case c.UserData == uring.PoisonUserData:
				t.Fatalf("after %d completions: read a slot the kernel had not written again: %+v", got, c)
			case c.UserData == 0 || c.UserData > n || c.Res != 0:
				t.Fatalf("after %d completions: got %+v, want a nop's, user data 1..%d", got, c, n)
			case seen[c.UserData]:
				t.Fatalf("after %d completions: user data %d twice, want once", got, c.UserData)
			}
			seen[c.UserData] = true
		}
		got += k
		if k == 0 {
			if time.Now().After(deadline) {
				close(done)
				t.Fatalf("got %d completions in 20s, want %d (producer: %v)", got, n, <-errc)
			}
			runtime.Gosched()
		}
	}
	close(done)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if d := r.Dropped(); d != 0 {
		t.Errorf("Dropped: got %d, want 0", d)
	}
}

// produce submits n nops, then keeps entering the kernel (without
// waiting) until done, so that completion work queued to its thread runs.
func produce(r *uring.Ring, n uint64, done chan struct{}) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for ud := uint64(1); ud <= n; {
		for ; ud <= n; ud++ {
			sqe := r.GetSQE()
			if sqe == nil {
				break
			}
			sqe.PrepNop().SetUserData(ud)
			if ud%3 == 0 {
				sqe.Async()
			}
		}
		if _, err := r.Submit(); err != nil && !errors.Is(err, uring.ErrBusy) {
			return fmt.Errorf("producer: %w", err)
		}
	}
	for {
		select {
		case <-done:
			return nil
		default:
		}
		if _, err := r.SubmitAndWait(0); err != nil && !errors.Is(err, uring.ErrBusy) {
			return fmt.Errorf("producer: %w", err)
		}
		time.Sleep(100 * time.Microsecond)
	}
}
