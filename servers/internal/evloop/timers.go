package evloop

import "time"

// Timeout lists (package deadline keeps them). A connection is on at most
// one.
const (
	listNone   = iota
	listHeader // waiting for (the rest of) a request header, or body bytes
	listIdle   // persistent connection between requests
	listWrite  // response blocked on a full socket
	listLinger // half-closed after an error response, draining input
	numLists
)

// setTimer puts c on timeout list k with the given deadline, leaving any
// other.
func (l *Loop) setTimer(c *Conn, k int, at int64) { l.lists.Set(&c.tm, k, at) }

// clearTimer takes c off its timeout list.
func (l *Loop) clearTimer(c *Conn) { l.lists.Clear(&c.tm) }

// expire handles every connection whose deadline has passed and runs the
// timers that are due.
func (l *Loop) expire() {
	for k := listHeader; k < numLists; k++ {
		for e := l.lists.Due(k, l.now); e != nil; e = l.lists.Due(k, l.now) {
			l.timeout(e.Owner, k)
		}
	}
	l.timers.RunDue(l.now)
}

// nextDeadline returns the nearest deadline: of a connection, a timer,
// or a draining loop's end; false when there is none.
func (l *Loop) nextDeadline() (int64, bool) {
	next, ok := l.lists.Nearest()
	if t, tok := l.timers.Nearest(); tok && (!ok || t < next) {
		next, ok = t, true
	}
	if l.draining && (!ok || l.hardStop < next) {
		next, ok = l.hardStop, true
	}
	return next, ok
}

// waitMillis is the epoll_wait timeout: until the nearest deadline, or
// forever when there is none.
func (l *Loop) waitMillis() int {
	next, ok := l.nextDeadline()
	if !ok {
		return -1
	}
	d := next - l.clock()
	if d <= 0 {
		return 0
	}
	return int((d + int64(time.Millisecond) - 1) / int64(time.Millisecond))
}
