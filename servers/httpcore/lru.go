package httpcore

// links are the intrusive list pointers an LRU element embeds, so that
// moving an element to the front never allocates.
type links[E any] struct {
	prev, next *E
}

// linked is a pointer to an element that embeds links.
type linked[E any] interface {
	*E
	lk() *links[E]
}

// lruList orders elements from most (head) to least (tail) recently used.
// It is not safe for concurrent use: the cache owning it holds its lock.
type lruList[E any, P linked[E]] struct {
	head, tail *E
}

func (l *lruList[E, P]) pushFront(e *E) {
	P(e).lk().prev, P(e).lk().next = nil, l.head
	if l.head != nil {
		P(l.head).lk().prev = e
	}
	l.head = e
	if l.tail == nil {
		l.tail = e
	}
}

func (l *lruList[E, P]) unlink(e *E) {
	lk := P(e).lk()
	if lk.prev != nil {
		P(lk.prev).lk().next = lk.next
	} else {
		l.head = lk.next
	}
	if lk.next != nil {
		P(lk.next).lk().prev = lk.prev
	} else {
		l.tail = lk.prev
	}
	lk.prev, lk.next = nil, nil
}

func (l *lruList[E, P]) moveFront(e *E) {
	if l.head != e {
		l.unlink(e)
		l.pushFront(e)
	}
}
