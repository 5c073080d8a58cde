package listen

// Limit bounds the connections open at once (--max-conns): a counting
// semaphore whose slot an accept routine takes before it accepts and a
// connection's end gives back. While every slot is taken nothing is
// accepted, and the kernel's listen backlog holds new connections (its
// handshakes complete, their requests wait), as Apache's
// MaxRequestWorkers queues them. A nil *Limit bounds nothing.
type Limit struct {
	slots chan struct{}
}

// NewLimit returns a Limit of n connections, or nil (no bound) when n is
// not positive.
func NewLimit(n int) *Limit {
	if n <= 0 {
		return nil
	}
	return &Limit{slots: make(chan struct{}, n)}
}

// Acquire takes a slot, waiting for one; it returns false, with no slot,
// once stop is closed.
func (l *Limit) Acquire(stop <-chan struct{}) bool {
	if l == nil {
		return true
	}
	select {
	case l.slots <- struct{}{}:
		return true
	case <-stop:
		return false
	}
}

// TryAcquire takes a slot if one is free.
func (l *Limit) TryAcquire() bool {
	if l == nil {
		return true
	}
	select {
	case l.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// Release gives back a slot taken by Acquire or TryAcquire. A Release
// without a slot is a programming error and panics: waiting for a slot to
// give back would hang the thread instead.
func (l *Limit) Release() {
	if l == nil {
		return
	}
	select {
	case <-l.slots:
	default:
		panic("listen: Release of a slot never taken")
	}
}

// Full reports whether every slot is taken.
func (l *Limit) Full() bool {
	return l != nil && len(l.slots) == cap(l.slots)
}
