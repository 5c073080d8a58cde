package evloop

import (
	"container/heap"
	"time"
)

// Timeout lists. A connection is on at most one.
const (
	listNone   = iota
	listHeader // waiting for (the rest of) a request header, or body bytes
	listIdle   // persistent connection between requests
	listWrite  // response blocked on a full socket
	listLinger // half-closed after an error response, draining input
	numLists
)

// lingerTime and lingerBytes bound the lingering close after an error
// response: closing with unread input would make the kernel reset the
// connection and could destroy the response before the client reads it.
const (
	lingerTime  = 2 * time.Second
	lingerBytes = 1 << 20
)

// connList is an intrusive doubly linked list of connections in deadline
// order. Deadlines in one list come from one fixed timeout, so a new
// deadline almost always belongs at the tail: insertion walks back from
// the tail, which is O(1) in practice.
type connList struct {
	head, tail *Conn
	kind       uint8
}

// setTimer puts c on list k with the given deadline, leaving any other.
func (l *Loop) setTimer(c *Conn, k int, deadline int64) {
	if c.tlist == uint8(k) && c.deadline == deadline {
		return
	}
	l.clearTimer(c)
	c.deadline = deadline
	c.tlist = uint8(k)
	ls := &l.lists[k]
	at := ls.tail
	for at != nil && at.deadline > deadline {
		at = at.tprev
	}
	// insert after at (at == nil: at the head)
	c.tprev = at
	if at == nil {
		c.tnext = ls.head
		ls.head = c
	} else {
		c.tnext = at.tnext
		at.tnext = c
	}
	if c.tnext != nil {
		c.tnext.tprev = c
	} else {
		ls.tail = c
	}
}

// clearTimer takes c off its list.
func (l *Loop) clearTimer(c *Conn) {
	if c.tlist == listNone {
		return
	}
	ls := &l.lists[c.tlist]
	if c.tprev != nil {
		c.tprev.tnext = c.tnext
	} else {
		ls.head = c.tnext
	}
	if c.tnext != nil {
		c.tnext.tprev = c.tprev
	} else {
		ls.tail = c.tprev
	}
	c.tprev, c.tnext, c.tlist = nil, nil, listNone
}

// expire handles every connection whose deadline has passed and runs the
// timers that are due.
func (l *Loop) expire() {
	for k := listHeader; k < numLists; k++ {
		for {
			c := l.lists[k].head
			if c == nil || c.deadline > l.now {
				break
			}
			l.clearTimer(c)
			l.timeout(c, k)
		}
	}
	for len(l.timers) > 0 && l.timers[0].at <= l.now {
		t := heap.Pop(&l.timers).(timer)
		t.fn()
	}
}

// waitMillis is the epoll_wait timeout: until the nearest deadline, or
// forever when there is none.
func (l *Loop) waitMillis() int {
	next := int64(-1)
	for k := listHeader; k < numLists; k++ {
		if c := l.lists[k].head; c != nil && (next < 0 || c.deadline < next) {
			next = c.deadline
		}
	}
	if len(l.timers) > 0 && (next < 0 || l.timers[0].at < next) {
		next = l.timers[0].at
	}
	if l.draining && (next < 0 || l.hardStop < next) {
		next = l.hardStop
	}
	if next < 0 {
		return -1
	}
	d := next - l.clock()
	if d <= 0 {
		return 0
	}
	return int((d + int64(time.Millisecond) - 1) / int64(time.Millisecond))
}

// timer is one After call.
type timer struct {
	at int64
	fn func()
}

// timerHeap is a min-heap of timers by deadline.
type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = timer{}
	*h = old[:len(old)-1]
	return t
}

func (h *timerHeap) push(t timer) { heap.Push(h, t) }
