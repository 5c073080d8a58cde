package uringloop

import (
	"golang.org/x/sys/unix"

	"flashbench/servers/internal/listen"
	"flashbench/servers/internal/uring"
)

// armAccept arms the listener's multishot accept unless it is armed, the
// loop drains or backs off, or MaxConns connections are open.
func (l *Loop) armAccept() {
	if l.accepting || l.draining || l.acceptPause || l.acceptOver || l.acc.Full() || len(l.backlog) > 0 {
		return
	}
	l.sqe().PrepAccept(l.lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, true).SetUserData(tag(0, kindAccept))
	l.accepting, l.acceptCancel = true, false
	l.ops++
}

// pauseAccept cancels the multishot accept: MaxConns are open, or the
// loop drains. Connections the kernel accepted before the cancel took
// effect wait in the backlog.
func (l *Loop) pauseAccept() {
	if l.accepting && !l.acceptCancel {
		l.cancel(tag(0, kindAccept))
		l.acceptCancel = true
	}
}

// acceptDone handles an accept completion: a new connection (admitted, or
// held until a slot frees), or a failure acted on by its class as every
// architecture does (listen.Acceptor). A completion without CQEFMore
// ended the multishot: it is armed again unless that would spin.
func (l *Loop) acceptDone(cqe *uring.CQE) {
	if !cqe.More() {
		l.accepting = false
		l.ops--
	}
	switch {
	case cqe.Res >= 0:
		l.admit(int(cqe.Res))
	case cqe.Res == -int32(unix.ECANCELED):
	default:
		switch l.acc.Refused(errno(cqe.Res)) {
		case listen.Retry, listen.Empty:
		case listen.Closed:
			l.acceptOver = true // the listener is shut
		default: // Resource, Fatal: the pending connection stays pending
			l.acceptPause = true
			l.After(listen.Backoff, l.resumeAccept)
		}
	}
	l.armAccept()
}

// resumeAccept ends a back-off.
func (l *Loop) resumeAccept() {
	l.acceptPause = false
	l.armAccept()
}

// admit serves a connection the kernel accepted, or holds it while
// MaxConns are open.
func (l *Loop) admit(fd int) {
	switch {
	case l.draining:
		rawClose(fd)
	case len(l.backlog) > 0 || !l.acc.Admit():
		l.backlog = append(l.backlog, fd)
		l.pauseAccept()
	default:
		l.newConn(fd)
		if l.acc.Full() {
			l.pauseAccept()
		}
	}
}

// admitWaiting serves the held connections while slots are free, then
// accepts again.
func (l *Loop) admitWaiting() {
	for len(l.backlog) > 0 && !l.draining && l.acc.Admit() {
		fd := l.backlog[0]
		l.backlog = l.backlog[:copy(l.backlog, l.backlog[1:])]
		l.newConn(fd) // may close a connection, and so come back here
	}
	l.armAccept()
}

// stopAccepting ends accepting for good: the accept is cancelled, the
// listener shut down so that new connections are refused at once (out of
// the ring it would still complete handshakes into its backlog), and the
// held connections closed.
func (l *Loop) stopAccepting() {
	l.acceptOver = true
	l.pauseAccept()
	unix.Shutdown(l.lfd, unix.SHUT_RD)
	for _, fd := range l.backlog {
		rawClose(fd)
	}
	l.backlog = l.backlog[:0]
}

func rawClose(fd int) {
	unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
}
