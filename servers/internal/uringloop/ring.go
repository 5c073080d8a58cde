package uringloop

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/uring"
)

// Kinds of operation, in the low byte of the user data; the connection's
// index is above it (0 for the loop's own operations).
const (
	kindWake   = iota + 1 // the eventfd's multishot poll
	kindAccept            // the listener's multishot accept
	kindRecv              // a connection's multishot recv
	kindSend              // a connection's sendmsg
	kindCancel            // a cancel (its completion only comes on failure)
	kindClose             // a close (likewise)
	kindFile              // a Handler's file operation (fileop.go): its slot is the index
	kindPoll              // a registered descriptor's multishot poll (fdpoll.go): its slot is the index
)

// tag is the user data of an operation of kind on connection index idx.
func tag(idx uint32, kind uint64) uint64 { return uint64(idx)<<8 | kind }

// sqe returns an SQE to prepare, submitting what is prepared when the SQ
// is full. A submit that fails for good is kept for Run to return; the
// caller then prepares a spare SQE that nobody submits.
func (l *Loop) sqe() *uring.SQE {
	for range 8 {
		if s := l.ring.GetSQE(); s != nil {
			l.counts.sqes.Add(1)
			return s
		}
		if _, err := l.ring.Submit(); err != nil && !errors.Is(err, uring.ErrBusy) {
			l.fail(err)
			break
		}
	}
	if l.err == nil {
		l.fail(errors.New("uring: the submission queue stays full"))
	}
	l.spare = uring.SQE{}
	return &l.spare
}

// fail records the first fatal error of the loop.
func (l *Loop) fail(err error) {
	if l.err == nil {
		l.err = fmt.Errorf("uringloop: %w", err)
	}
}

// enter submits what the turn prepared and waits for a completion, or
// until the nearest deadline.
func (l *Loop) enter() error {
	if l.freed {
		l.bufs.Advance()
		l.freed = false
	}
	var err error
	l.counts.enters.Add(1)
	next, ok := l.nextDeadline()
	switch {
	case l.ring.CQReady() > 0:
		_, err = l.ring.Submit()
	case !ok:
		_, err = l.ring.SubmitAndWait(1)
	default:
		d := time.Duration(next - l.clock())
		if d <= 0 {
			_, err = l.ring.Submit()
		} else {
			_, err = l.ring.SubmitAndWaitTimeout(1, d)
		}
	}
	if err != nil && !errors.Is(err, uring.ErrBusy) {
		return fmt.Errorf("uringloop: %w", err)
	}
	return nil
}

// reap handles every completion waiting in the CQ.
func (l *Loop) reap() {
	for {
		n := l.ring.PeekBatch(l.cqes[:])
		l.counts.cqes.Add(uint64(n))
		for i := range n {
			l.dispatch(&l.cqes[i])
		}
		if n < len(l.cqes) {
			return
		}
	}
}

// dispatch hands a completion to whoever waits for it.
func (l *Loop) dispatch(cqe *uring.CQE) {
	idx := uint32(cqe.UserData >> 8)
	switch cqe.UserData & 0xff {
	case kindWake:
		l.wakeDone(cqe)
	case kindAccept:
		l.acceptDone(cqe)
	case kindRecv:
		l.recvDone(l.conns[idx], cqe)
	case kindSend:
		l.sendDone(l.conns[idx], cqe)
	case kindFile:
		l.fileDone(idx, cqe)
	case kindPoll:
		l.pollDone(idx, cqe)
	}
	// kindCancel, kindClose: a failed cancel found nothing left to
	// cancel; a failed close has nothing to retry.
}

// cancel cancels the operation tagged target; its completion reports.
func (l *Loop) cancel(target uint64) {
	l.sqe().PrepCancel(target, 0).SetUserData(tag(0, kindCancel)).SkipSuccess()
}

// errno returns a negative result as an errno.
func errno(res int32) syscall.Errno { return syscall.Errno(-res) }

// armWake polls the eventfd through which Shutdown and the lease watch
// wake the loop.
func (l *Loop) armWake() {
	l.sqe().PrepPollAdd(l.wakefd, unix.POLLIN, true).SetUserData(tag(0, kindWake))
	l.waking = true
	l.ops++
}

// wakeDone handles the eventfd: a Shutdown request or a lease break.
func (l *Loop) wakeDone(cqe *uring.CQE) {
	if !cqe.More() {
		l.waking = false
		l.ops--
		if cqe.Res == -int32(unix.ECANCELED) {
			return
		}
		l.armWake()
	}
	unix.Read(l.wakefd, l.wakeBuf[:])
	if l.leaseReq.Swap(false) && l.leases != nil {
		l.leases.wake()
	}
	d := l.stopReq.Load()
	if d == 0 || l.draining {
		return
	}
	l.draining = true
	l.hardStop = l.now + d - 1
	l.stopAccepting()
	// Connections waiting for a request are idle: close them now.
	for _, k := range []int{listIdle, listHeader} {
		for e := l.lists.Head(k); e != nil; {
			next := e.Next()
			if c := e.Owner; c.hc.Idle() && c.held() == 0 {
				l.close(c)
			}
			e = next
		}
	}
}

// closeAll closes every connection still open, cancels the loop's own
// operations, waits (a second at most) until nothing is in flight, so
// that no operation outlives the memory it points at, and closes the ring.
func (l *Loop) closeAll() {
	for _, c := range l.conns[1:] {
		if !c.closed {
			l.close(c)
		}
	}
	l.stopAccepting()
	l.closePolls()
	if l.waking {
		l.cancel(tag(0, kindWake))
	}
	deadline := l.clock() + int64(time.Second)
	for l.ops > 0 && l.clock() < deadline && l.err == nil {
		if _, err := l.ring.SubmitAndWaitTimeout(1, 10*time.Millisecond); err != nil && !errors.Is(err, uring.ErrBusy) {
			break
		}
		l.now = l.clock()
		l.reap()
	}
	if l.leases != nil {
		l.leases.close()
	}
	l.closeFds() // cancels what is still in flight
	for _, c := range l.conns[1:] {
		if c.sending { // given up on after the second
			c.sending = false
			c.hc.ReleaseQueued()
		}
	}
}

// RingCounts are the ring's traffic since the loop was made: with the
// requests served, the ring entries a request costs, as system calls per
// request are the cost of an epoll loop.
type RingCounts struct {
	// SQEs counts submission entries prepared, CQEs completions reaped.
	SQEs uint64 `json:"sqes"`
	CQEs uint64 `json:"cqes"`
	// Enters counts the loop's io_uring_enter calls (submit, wait or both).
	Enters uint64 `json:"enters"`
	// ZCSends counts zero-copy sends (SetSendZCMin); ZCCopied those whose
	// notification said the kernel copied the data after all (loopback
	// and veth deliver to a local socket, which copies).
	ZCSends  uint64 `json:"zc_sends"`
	ZCCopied uint64 `json:"zc_copied"`
}

// ringCounters are RingCounts as the loop thread counts them and any
// goroutine reads them.
type ringCounters struct{ sqes, cqes, enters, zcSends, zcCopied atomic.Uint64 }

// RingCounts returns the ring's traffic so far; safe from any goroutine.
func (l *Loop) RingCounts() RingCounts {
	return RingCounts{SQEs: l.counts.sqes.Load(), CQEs: l.counts.cqes.Load(), Enters: l.counts.enters.Load(),
		ZCSends: l.counts.zcSends.Load(), ZCCopied: l.counts.zcCopied.Load()}
}
