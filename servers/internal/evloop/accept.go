package evloop

import (
	"golang.org/x/sys/unix"

	"flashbench/servers/internal/listen"
)

// acceptBatch bounds the connections accepted per round, so that a burst
// of new connections does not starve established ones; the listener is
// level-triggered and reports the rest in the next round.
const acceptBatch = 64

// acceptReady accepts pending connections.
func (l *Loop) acceptReady(uint32) {
	for range acceptBatch {
		if !l.listening {
			return
		}
		fd, class := l.acc.Poll()
		switch class {
		case listen.Accepted:
			l.newConn(fd)
		case listen.Retry:
		case listen.AtLimit:
			l.pauseListener()
			return
		case listen.Resource:
			// The descriptor table is full: polling the listener would
			// only spin, since the pending connection stays pending
			// until a close.
			l.acceptPause = true
			l.pauseListener()
			l.After(listen.Backoff, func() {
				l.acceptPause = false
				l.resumeListener()
			})
			return
		default: // Empty, Closed, Fatal
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
	if l.listening || l.draining || l.acceptPause || l.acc.Full() {
		return
	}
	if l.ctl(unix.EPOLL_CTL_ADD, l.lfd, unix.EPOLLIN) == nil {
		l.listening = true
	}
}
