package uringloop

import "container/heap"

// Timeout lists, as evloop's. A connection is on at most one.
const (
	listNone   = iota
	listHeader // waiting for (the rest of) a request header, or body bytes
	listIdle   // persistent connection between requests
	listWrite  // a send in flight: the client may not be reading
	listLinger // half-closed after an error response, draining input
	numLists
)

// connList is an intrusive doubly linked list of connections in deadline
// order. Deadlines in one list come from one fixed timeout, so a new
// deadline almost always belongs at the tail: insertion walks back from
// the tail, which is O(1) in practice.
type connList struct {
	head, tail *Conn
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

// nextDeadline returns the nearest deadline: of a connection, a timer,
// or a draining loop's end; false when there is none.
func (l *Loop) nextDeadline() (int64, bool) {
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
	return next, next >= 0
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
