package uring

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// subQueue is the submission side. The kernel owns khead, the process
// owns ktail; sqeHead and sqeTail are the process's own counters: SQEs in
// [sqeHead, sqeTail) are prepared but not yet published.
type subQueue struct {
	khead   *uint32 // advanced by the kernel once it has read an SQE
	ktail   *uint32 // advanced by the process to publish SQEs
	kflags  *uint32 // IORING_SQ_ flags, written by the kernel
	mask    uint32
	entries uint32
	sqes    []SQE
	sqeHead uint32
	sqeTail uint32
}

// init points the queue at the mapped rings.
func (q *subQueue) init(ring, sqeMem []byte, off *sqringOffsets) {
	q.khead = u32At(ring, off.head)
	q.ktail = u32At(ring, off.tail)
	q.kflags = u32At(ring, off.flags)
	q.mask = *u32At(ring, off.ringMask)
	q.entries = *u32At(ring, off.ringEntries)
	q.sqes = sliceAt[SQE](sqeMem, 0, q.entries)
	array := sliceAt[uint32](ring, off.array, q.entries)
	for i := range array {
		array[i] = uint32(i)
	}
	q.sqeHead = atomic.LoadUint32(q.ktail)
	q.sqeTail = q.sqeHead
}

// GetSQE returns a zeroed SQE to prepare, or nil when the SQ is full: then
// Submit and ask again. The SQE belongs to the caller until the next
// Submit, which hands every SQE obtained since to the kernel, in order.
func (r *Ring) GetSQE() *SQE {
	q := &r.sq
	if q.khead == nil {
		return nil
	}
	// Acquire: the kernel advances its head once it has read the SQEs
	// before it; the load must come before the writes below that reuse
	// such a slot, or they could overwrite an SQE the kernel still reads.
	if q.sqeTail-atomic.LoadUint32(q.khead) >= q.entries {
		return nil
	}
	sqe := &q.sqes[q.sqeTail&q.mask]
	q.sqeTail++
	*sqe = SQE{}
	return sqe
}

// SQReady returns the SQEs obtained by GetSQE and not yet submitted.
func (r *Ring) SQReady() uint32 {
	if r.sq.khead == nil {
		return 0
	}
	return r.sq.sqeTail - atomic.LoadUint32(r.sq.khead)
}

// flush publishes the prepared SQEs and returns how many the kernel has
// not consumed yet (those of a batch it stopped short of included).
func (q *subQueue) flush() uint32 {
	if q.khead == nil {
		return 0 // closed
	}
	if q.sqeHead != q.sqeTail {
		q.sqeHead = q.sqeTail
		// Release: the SQEs were written with plain stores; the kernel
		// reads the tail, then the SQEs below it, so every write to them
		// must be visible before the new tail is. sync/atomic stores are
		// sequentially consistent, stronger than release.
		atomic.StoreUint32(q.ktail, q.sqeTail)
	}
	return q.sqeTail - atomic.LoadUint32(q.khead)
}

// needsFlush reports whether completions wait in the kernel (in its
// overflow list, or as task work) for an enter with GETEVENTS.
func (r *Ring) needsFlush() bool {
	if r.sq.kflags == nil {
		return false // closed
	}
	return atomic.LoadUint32(r.sq.kflags)&(sqCQOverflow|sqTaskrun) != 0
}

// ErrBusy is matched (errors.Is) by a submit error the kernel gives while
// the completion queue is overfull (EBUSY) or it lacks memory for new
// requests (EAGAIN): reap completions with PeekBatch, then submit again.
// The unsubmitted SQEs stay queued.
var ErrBusy = errors.New("uring: busy: reap completions, then submit again")

// Submit hands the prepared SQEs to the kernel without waiting and returns
// how many it took. It also flushes completions that wait in the kernel's
// overflow list.
func (r *Ring) Submit() (int, error) {
	n := r.sq.flush()
	var flags uint32
	if r.needsFlush() {
		flags = enterGetEvents
	}
	if n == 0 && flags == 0 {
		return 0, nil
	}
	return r.enter(n, 0, flags)
}

// SubmitAndWait hands the prepared SQEs to the kernel and waits until at
// least n completions are in the CQ: the one call of a loop's turn. A
// signal that arrives after the kernel took SQEs ends the wait early (the
// count is then positive): the loop peeks what there is and turns again.
func (r *Ring) SubmitAndWait(n uint32) (int, error) {
	return r.enter(r.sq.flush(), n, enterGetEvents)
}

// SubmitAndWaitTimeout is SubmitAndWait for at most d; the timeout is not
// an error (PeekBatch then finds fewer than n). It needs FeatExtArg.
func (r *Ring) SubmitAndWaitTimeout(n uint32, d time.Duration) (int, error) {
	if r.features&FeatExtArg == 0 {
		return 0, errors.New("uring: wait with a timeout: the kernel lacks IORING_FEAT_EXT_ARG (Linux 5.11)")
	}
	deadline := time.Now().Add(d)
	for {
		r.waitTS = unix.NsecToTimespec(max(d, 0).Nanoseconds())
		r.waitArg = getEventsArg{ts: timespecAddr(&r.waitTS)}
		got, e := sysEnterArg(r.fd, r.sq.flush(), n, enterGetEvents, &r.waitArg)
		switch e {
		case 0:
			return got, nil
		case unix.ETIME:
			return 0, nil
		case unix.EINTR:
			runtime.Gosched()
			d = time.Until(deadline)
			continue
		}
		return 0, enterError(e)
	}
}

// enter submits toSubmit SQEs and waits for minComplete completions,
// retrying when a signal interrupts the wait.
func (r *Ring) enter(toSubmit, minComplete, flags uint32) (int, error) {
	for {
		got, e := sysEnter(r.fd, toSubmit, minComplete, flags)
		if e == 0 {
			return got, nil
		}
		if e != unix.EINTR {
			return 0, enterError(e)
		}
		// A signal: the runtime's preemption, every 10 ms of a long
		// wait. Yield, so that the goroutine stops when the runtime
		// asked it to, then enter again: an interrupted enter submitted
		// nothing (it returns a count when it did), and leaving the SQ
		// alone keeps PeekBatch, which enters with nothing to submit,
		// off the submitting goroutine's state.
		runtime.Gosched()
	}
}

// enterError wraps a failed io_uring_enter, marking the errors that ask
// the caller to reap first.
func enterError(e unix.Errno) error {
	sys := os.NewSyscallError("io_uring_enter", e)
	if e == unix.EBUSY || e == unix.EAGAIN {
		return fmt.Errorf("%w: %w", ErrBusy, sys)
	}
	return fmt.Errorf("uring: %w", sys)
}
