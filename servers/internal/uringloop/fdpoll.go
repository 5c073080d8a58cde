package uringloop

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/uring"
)

// A registered descriptor (AddFd) is a multishot poll on the ring: each
// wake-up of the descriptor with one of its events ready is a completion,
// and the loop calls the descriptor's function with the ready events on
// its own thread. Registrations live in a table of slots whose index is
// in their polls' user data, as a connection's index is in its
// operations'. A slot is reused only once its poll can complete no more,
// so a late completion of a removed descriptor never reaches the next
// one, even one with the same number.
type fdPoll struct {
	fd     int
	events uint32
	fn     func(events uint32) // nil once removed
	armed  bool                // a multishot poll is in flight (until a completion without CQEFMore)
}

// pollEvents are the bits of an AddFd interest a poll on the ring takes:
// the readiness events. A multishot poll is edge-triggered whatever
// EPOLLET says: a completion per wake-up, none for readiness that lasts.
const pollEvents = 0xffff

// AddFd registers a descriptor that no other operation of the loop uses
// (a CGI program's pipe): fn runs on the loop thread with the ready
// events (poll's bits, which are epoll's: EPOLLIN, EPOLLOUT, EPOLLERR,
// EPOLLHUP) each time fd wakes up with one of events ready, and once at
// once if one is ready when the poll is armed. Readiness is
// edge-triggered: fn must consume what is ready (read to EAGAIN, or until
// a short read of a pipe) or it is not told again. fn is never called
// after RemoveFd(fd). Call it on the loop thread only.
func (l *Loop) AddFd(fd int, events uint32, fn func(events uint32)) error {
	switch {
	case fd < 0:
		return fmt.Errorf("uringloop: add fd %d: bad descriptor", fd)
	case fd < len(l.pollOf) && l.pollOf[fd] != 0:
		return fmt.Errorf("uringloop: add fd %d: %w", fd, os.NewSyscallError("poll_add", unix.EEXIST))
	}
	idx := l.newPoll()
	p := l.polls[idx]
	p.fd, p.events, p.fn = fd, events&pollEvents, fn
	if fd >= len(l.pollOf) {
		l.pollOf = append(l.pollOf, make([]uint32, fd+1-len(l.pollOf))...)
	}
	l.pollOf[fd] = idx
	l.armPoll(idx)
	return nil
}

// RemoveFd ends the registration of a descriptor added with AddFd: its
// poll is cancelled, and whatever completions it still has are dropped.
// It does not close fd, which may be closed at once. Call it on the loop
// thread only.
func (l *Loop) RemoveFd(fd int) error {
	if fd < 0 || fd >= len(l.pollOf) || l.pollOf[fd] == 0 {
		return fmt.Errorf("uringloop: remove fd %d: %w", fd, os.NewSyscallError("poll_remove", unix.ENOENT))
	}
	l.unregister(l.pollOf[fd])
	return nil
}

// unregister forgets slot idx's descriptor and cancels its poll; the slot
// is free once the poll has ended.
func (l *Loop) unregister(idx uint32) {
	p := l.polls[idx]
	l.pollOf[p.fd] = 0
	p.fn = nil
	if p.armed {
		l.cancel(tag(idx, kindPoll))
		return
	}
	l.pollFree = append(l.pollFree, idx)
}

// newPoll takes a free slot.
func (l *Loop) newPoll() uint32 {
	if n := len(l.pollFree); n > 0 {
		idx := l.pollFree[n-1]
		l.pollFree = l.pollFree[:n-1]
		return idx
	}
	if len(l.polls) == 0 {
		l.polls = append(l.polls, nil) // index 0 is never used
	}
	l.polls = append(l.polls, &fdPoll{})
	return uint32(len(l.polls) - 1)
}

// armPoll arms slot idx's multishot poll.
func (l *Loop) armPoll(idx uint32) {
	p := l.polls[idx]
	l.sqe().PrepPollAdd(p.fd, p.events, true).SetUserData(tag(idx, kindPoll))
	p.armed = true
	l.ops++
}

// pollDone hands a poll's completion to its descriptor's function. A
// poll that ended (no CQEFMore: the CQ overflowed, or something
// cancelled it) is armed again while its descriptor is registered, and
// the new poll reports what is ready by then; one that failed tells the
// function EPOLLERR and stays unarmed, so that a descriptor that cannot
// be polled does not spin the loop: its owner finds the error and
// removes it.
func (l *Loop) pollDone(idx uint32, cqe *uring.CQE) {
	p := l.polls[idx]
	if !cqe.More() {
		p.armed = false
		l.ops--
	}
	if p.fn == nil { // removed: drop it, and free the slot once the poll ended
		if !p.armed {
			l.pollFree = append(l.pollFree, idx)
		}
		return
	}
	rearm := true
	switch {
	case cqe.Res > 0:
		p.fn(uint32(cqe.Res))
	case cqe.Res == 0, cqe.Res == -int32(unix.ECANCELED):
	default:
		rearm = false
		p.fn(unix.EPOLLERR)
	}
	// fn may have removed the descriptor, and even registered another
	// in the same slot, which is armed.
	if rearm && p.fn != nil && !p.armed {
		l.armPoll(idx)
	}
}

// closePolls cancels every registered descriptor's poll: the loop stops.
func (l *Loop) closePolls() {
	for idx := 1; idx < len(l.polls); idx++ {
		if l.polls[idx].fn != nil {
			l.unregister(uint32(idx))
		}
	}
}
