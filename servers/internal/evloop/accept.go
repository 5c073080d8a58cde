package evloop

import (
	"time"

	"golang.org/x/sys/unix"
)

// acceptBatch bounds the connections accepted per round, so that a burst
// of new connections does not starve established ones; the listener is
// level-triggered and reports the rest in the next round.
const acceptBatch = 64

// acceptBackoff is how long the listener stays out of the epoll set after
// the descriptor table filled up (EMFILE, ENFILE): polling it would only
// spin, since the pending connection stays pending until a close.
const acceptBackoff = 50 * time.Millisecond

// acceptReady accepts pending connections.
func (l *Loop) acceptReady(uint32) {
	for range acceptBatch {
		if !l.listening {
			return
		}
		// accept4 without an address: nothing to allocate.
		r, _, e := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(l.lfd), 0, 0,
			unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		switch e {
		case 0:
			l.newConn(int(r))
			continue
		case unix.EAGAIN:
			return
		case unix.EINTR, unix.ECONNABORTED:
			continue
		case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
			l.st.AcceptErrors.Add(1)
			l.acceptPause = true
			l.pauseListener()
			l.After(acceptBackoff, func() {
				l.acceptPause = false
				l.resumeListener()
			})
			return
		default:
			l.st.AcceptErrors.Add(1)
			return
		}
	}
}

// pauseListener takes the listener out of the epoll set.
func (l *Loop) pauseListener() {
	if !l.listening {
		return
	}
	if l.ctl(unix.EPOLL_CTL_DEL, l.lfd, 0) == nil {
		l.listening = false
	}
}

// resumeListener puts the listener back unless the loop is draining,
// backing off, or at MaxConns.
func (l *Loop) resumeListener() {
	if l.listening || l.draining || l.acceptPause ||
		(l.opts.MaxConns > 0 && l.nconns >= l.opts.MaxConns) {
		return
	}
	if l.ctl(unix.EPOLL_CTL_ADD, l.lfd, unix.EPOLLIN) == nil {
		l.listening = true
	}
}
