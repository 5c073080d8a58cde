// Package deadline keeps an event loop's timeouts, for evloop and
// uringloop alike: connections on a few intrusive lists in deadline order
// (one list per kind of timeout), and one-shot timers in a min-heap. The
// loop asks for the nearest deadline before it waits and for what is due
// after, all without allocating.
package deadline

import "container/heap"

// Entry is a connection's place on the lists: the connection embeds one
// and sets Owner to itself.
type Entry[T any] struct {
	Owner      T
	prev, next *Entry[T]
	at         int64
	list       int
}

// List is the list e is on, 0 for none.
func (e *Entry[T]) List() int { return e.list }

// Next is the entry after e on its list, nil at the tail.
func (e *Entry[T]) Next() *Entry[T] { return e.next }

// Lists are the lists 1 to n-1 of a loop (0 is none). Deadlines on one
// list come from one fixed timeout, so a new deadline almost always
// belongs at the tail: insertion walks back from the tail, which is O(1)
// in practice.
type Lists[T any] struct {
	heads, tails []*Entry[T]
}

// NewLists returns the lists 1 to n-1.
func NewLists[T any](n int) Lists[T] {
	return Lists[T]{heads: make([]*Entry[T], n), tails: make([]*Entry[T], n)}
}

// Head is the entry of list k with the nearest deadline, nil when empty.
func (ls *Lists[T]) Head(k int) *Entry[T] { return ls.heads[k] }

// Set puts e on list k at deadline at, taking it off any other.
func (ls *Lists[T]) Set(e *Entry[T], k int, at int64) {
	if e.list == k && e.at == at {
		return
	}
	ls.Clear(e)
	e.at, e.list = at, k
	p := ls.tails[k]
	for p != nil && p.at > at {
		p = p.prev
	}
	// insert after p (p == nil: at the head)
	e.prev = p
	if p == nil {
		e.next, ls.heads[k] = ls.heads[k], e
	} else {
		e.next, p.next = p.next, e
	}
	if e.next != nil {
		e.next.prev = e
	} else {
		ls.tails[k] = e
	}
}

// Clear takes e off its list.
func (ls *Lists[T]) Clear(e *Entry[T]) {
	if e.list == 0 {
		return
	}
	k := e.list
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		ls.heads[k] = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		ls.tails[k] = e.prev
	}
	e.prev, e.next, e.list = nil, nil, 0
}

// Due takes the head of list k off it and returns it when its deadline is
// at or before now; nil when none is due.
func (ls *Lists[T]) Due(k int, now int64) *Entry[T] {
	e := ls.heads[k]
	if e == nil || e.at > now {
		return nil
	}
	ls.Clear(e)
	return e
}

// Nearest is the nearest deadline of every list; false when all are
// empty.
func (ls *Lists[T]) Nearest() (int64, bool) {
	next, ok := int64(0), false
	for _, e := range ls.heads {
		if e != nil && (!ok || e.at < next) {
			next, ok = e.at, true
		}
	}
	return next, ok
}

// Timers are one-shot callbacks by deadline.
type Timers struct{ h timerHeap }

// After runs fn at the first RunDue at or past at.
func (t *Timers) After(at int64, fn func()) { heap.Push(&t.h, timer{at: at, fn: fn}) }

// RunDue runs the timers due at now, earliest first.
func (t *Timers) RunDue(now int64) {
	for len(t.h) > 0 && t.h[0].at <= now {
		heap.Pop(&t.h).(timer).fn()
	}
}

// Nearest is the earliest timer's deadline; false when there is none.
func (t *Timers) Nearest() (int64, bool) {
	if len(t.h) == 0 {
		return 0, false
	}
	return t.h[0].at, true
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
