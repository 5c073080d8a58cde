package listen

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// Class is what the outcome of one accept4 means to the loop that called
// it. Every architecture acts on the classes alike (Acceptor), so that a
// failure one of them survives is not fatal to another.
type Class uint8

const (
	// Accepted is a new connection.
	Accepted Class = iota
	// Empty is no connection pending (EAGAIN): a non-blocking listener is
	// drained, a blocking one's receive timeout has passed.
	Empty
	// Retry is a failure of this attempt alone: a signal (EINTR), a
	// connection reset before it was accepted (ECONNABORTED), or a
	// network error of the new connection that Linux's accept passes on
	// (EPROTO, ENETDOWN, EHOSTUNREACH, ... : accept(2) says to retry
	// them as EAGAIN), or a firewall rule refusing it (EPERM).
	Retry
	// Resource is a process or system out of descriptors or memory
	// (EMFILE, ENFILE, ENOBUFS, ENOMEM). The pending connection stays
	// pending, so retrying at once would spin: back off first.
	Resource
	// Closed is a listener closed or shut down (EBADF, EINVAL,
	// ENOTSOCK): accepting is over, and that is no error.
	Closed
	// Fatal is any other failure.
	Fatal
	// AtLimit is not an accept4 outcome: Poll took no connection because
	// Options.MaxConns are open.
	AtLimit
)

// String names the class.
func (c Class) String() string {
	switch c {
	case Accepted:
		return "accepted"
	case Empty:
		return "empty"
	case Retry:
		return "retry"
	case Resource:
		return "resource"
	case Closed:
		return "closed"
	case AtLimit:
		return "at-limit"
	}
	return "fatal"
}

// Failed reports whether the class counts as a failed accept in the stats
// file (errors.accept): running out of resources, or a fatal error.
func (c Class) Failed() bool { return c == Resource || c == Fatal }

// Classify returns the class of an accept error, which may be wrapped
// (os.SyscallError, net.OpError); nil is Accepted, and an error carrying
// no errno is Fatal.
func Classify(err error) Class {
	if err == nil {
		return Accepted
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return Fatal
	}
	return classify(errno)
}

// classify is the one errno table; 0 is success.
func classify(errno syscall.Errno) Class {
	switch errno {
	case 0:
		return Accepted
	case unix.EAGAIN:
		return Empty
	case unix.EINTR, unix.ECONNABORTED, unix.EPERM,
		unix.EPROTO, unix.ENETDOWN, unix.ENOPROTOOPT, unix.EHOSTDOWN,
		unix.ENONET, unix.EHOSTUNREACH, unix.EOPNOTSUPP, unix.ENETUNREACH:
		return Retry
	case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
		return Resource
	case unix.EBADF, unix.EINVAL, unix.ENOTSOCK:
		return Closed
	}
	return Fatal
}
