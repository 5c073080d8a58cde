package listen

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/stats"
)

// AcceptPoll is how often a thread blocked in accept4 wakes up to look
// for a shutdown: closing a listener from another thread does not wake a
// blocking accept on Linux, a receive timeout (SO_RCVTIMEO) does.
const AcceptPoll = 100 * time.Millisecond

// Backoff is how long an accept routine waits after a Resource failure
// before it accepts again: the connection stays pending until a
// descriptor is closed or memory freed, and retrying at once would spin.
const Backoff = 50 * time.Millisecond

// Counters are where an Acceptor counts: the stats file's "connections"
// and "errors.accept". A nil field counts nothing.
type Counters struct {
	// Accepted counts accepted connections.
	Accepted *atomic.Uint64
	// Failed counts failed accepts (Class.Failed).
	Failed *atomic.Uint64
}

// Counting returns the Counters of st: its Connections and AcceptErrors
// (none when st is nil).
func Counting(st *stats.Counters) Counters {
	if st == nil {
		return Counters{}
	}
	return Counters{Accepted: &st.Connections, Failed: &st.AcceptErrors}
}

// Options configures an Acceptor.
type Options struct {
	// Blocking makes the listener blocking with a receive timeout of
	// AcceptPoll, for threads that sleep in accept4 (Wait). Otherwise it
	// is made non-blocking for an event loop (Poll), and so are the
	// connections it accepts.
	Blocking bool
	// MaxConns, when positive, bounds the connections open at once (see
	// Limit): each accepted connection holds a slot until Release.
	MaxConns int
	// Counters is where accepts are counted.
	Counters Counters
	// Turn, when set, is held through each Wait, so that one thread at a
	// time sleeps in accept4 (nginx's accept_mutex): a thread blocked in
	// accept4 holds a descriptor slot, and a pool of them could take
	// every one (see the threaded architecture).
	Turn sync.Locker
}

// Acceptor is the accept routine of every flashbench architecture, after
// nginx's ngx_event_accept.c: it takes connections from a listening
// socket, acts on accept4's failures by their Class (retry, back off,
// stop, fail), bounds the connections open at once, and counts. What
// becomes of a connection is the architecture's: an event loop registers
// it, a blocking loop serves it on the accepting thread, forking hands it
// to a child. An event loop polls (Poll), on its one thread; blocking
// threads wait (Wait), from any number of goroutines.
type Acceptor struct {
	fd       int
	blocking bool
	flags    uintptr
	limit    *Limit
	counts   Counters
	turn     sync.Locker
}

// NewAcceptor returns the Acceptor of the listening socket lfd, setting
// the socket up for the way opts says it is waited on. The caller keeps
// ownership of lfd.
func NewAcceptor(lfd int, opts Options) (*Acceptor, error) {
	a := &Acceptor{fd: lfd, blocking: opts.Blocking, flags: unix.SOCK_CLOEXEC,
		limit: NewLimit(opts.MaxConns), counts: opts.Counters, turn: opts.Turn}
	if !opts.Blocking {
		a.flags |= unix.SOCK_NONBLOCK
	}
	if err := unix.SetNonblock(lfd, !opts.Blocking); err != nil {
		return nil, fmt.Errorf("listen: listener: %w", os.NewSyscallError("fcntl", err))
	}
	if opts.Blocking {
		tv := unix.NsecToTimeval(AcceptPoll.Nanoseconds())
		if err := unix.SetsockoptTimeval(lfd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			return nil, fmt.Errorf("listen: listener: %w", os.NewSyscallError("setsockopt", err))
		}
	}
	return a, nil
}

// Poll accepts one pending connection of a non-blocking listener, without
// waiting: the connection and Accepted, or -1 and what happened instead.
// It takes no connection while MaxConns are open (AtLimit). After a
// Resource failure the caller stops polling for Backoff.
func (a *Acceptor) Poll() (int, Class) {
	if !a.limit.TryAcquire() {
		return -1, AtLimit
	}
	fd, _, c := a.accept()
	if c != Accepted {
		a.limit.Release()
		return -1, c
	}
	return fd, c
}

// Wait blocks until it accepts a connection (fd, nil), stop is closed or
// the listener shut down (-1, nil), or accept4 fails for good (-1, and
// the error). While MaxConns connections are open it waits for a Release
// before it accepts. It retries transient failures, and backs off after a
// Resource failure.
func (a *Acceptor) Wait(stop <-chan struct{}) (int, error) {
	if a.turn != nil {
		a.turn.Lock()
		defer a.turn.Unlock()
	}
	if !a.limit.Acquire(stop) {
		return -1, nil
	}
	for {
		select {
		case <-stop:
			a.limit.Release()
			return -1, nil
		default:
		}
		fd, errno, c := a.accept()
		switch c {
		case Accepted:
			return fd, nil
		case Empty, Retry:
			continue
		case Resource:
			sleep(Backoff, stop)
			continue
		case Closed:
			a.limit.Release()
			return -1, nil
		}
		a.limit.Release()
		return -1, fmt.Errorf("listen: %w", os.NewSyscallError("accept4", errno))
	}
}

// Admit takes a MaxConns slot for a connection that the kernel accepted
// on the loop's behalf (an io_uring multishot accept, which accepts
// whenever a connection arrives) and counts it. It reports false, taking
// nothing, while MaxConns connections are open: the loop then holds the
// connection unserved, as the listen backlog would, and admits it again
// after a Release.
func (a *Acceptor) Admit() bool {
	if !a.limit.TryAcquire() {
		return false
	}
	a.counts.count(Accepted)
	return true
}

// Refused classifies and counts the failure errno of an accept that the
// kernel made on the loop's behalf (an io_uring accept's negated result),
// so that such a loop acts on it as Poll's callers do on Poll's classes.
func (a *Acceptor) Refused(errno syscall.Errno) Class {
	c := classify(errno)
	a.counts.count(c)
	return c
}

// Release ends the hold of a closed connection on the MaxConns bound.
func (a *Acceptor) Release() { a.limit.Release() }

// Full reports whether MaxConns connections are open: an event loop
// takes its listener out of its epoll set until a Release.
func (a *Acceptor) Full() bool { return a.limit.Full() }

// accept calls accept4 once and counts the outcome: the connection, or
// the errno and its class.
func (a *Acceptor) accept() (int, syscall.Errno, Class) {
	var r uintptr
	var errno syscall.Errno
	if a.blocking {
		r, _, errno = unix.Syscall6(unix.SYS_ACCEPT4, uintptr(a.fd), 0, 0, a.flags, 0, 0)
	} else {
		// An event loop's thread never blocks here: the raw call skips
		// the scheduler's bookkeeping, and without an address nothing
		// is allocated.
		r, _, errno = unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(a.fd), 0, 0, a.flags, 0, 0)
	}
	c := classify(errno)
	a.counts.count(c)
	if c == Accepted {
		return int(r), 0, c
	}
	return -1, errno, c
}

// count counts one outcome of accept4.
func (c Counters) count(class Class) {
	switch {
	case class == Accepted && c.Accepted != nil:
		c.Accepted.Add(1)
	case class.Failed() && c.Failed != nil:
		c.Failed.Add(1)
	}
}

// sleep waits for d or until stop is closed.
func sleep(d time.Duration, stop <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-stop:
	}
}
