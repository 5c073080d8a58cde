package listen

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Stop ends accepting on a listening socket that threads or processes
// wait on in accept4, once: it closes C, which the accept routines watch
// (Acceptor.Wait's stop), and shuts the socket down, which refuses new
// connections, pending ones included, and wakes every thread and process
// blocked in accept4 (EINVAL: Closed). Closing the descriptor would wake
// none of them on Linux, and would not stop the other processes holding
// it. Stop keeps the shutdown's deadline for the one who drains.
type Stop struct {
	lfd      int
	once     sync.Once
	c        chan struct{}
	deadline atomic.Int64
}

// NewStop returns the Stop of the listening socket lfd.
func NewStop(lfd int) *Stop { return &Stop{lfd: lfd, c: make(chan struct{})} }

// Begin stops accepting and records deadline, the first time it is
// called; it reports whether it did.
func (s *Stop) Begin(deadline time.Duration) bool {
	first := false
	s.once.Do(func() {
		first = true
		s.deadline.Store(int64(deadline))
		close(s.c)
		unix.Shutdown(s.lfd, unix.SHUT_RD)
	})
	return first
}

// C is closed once accepting stops.
func (s *Stop) C() <-chan struct{} { return s.c }

// Deadline returns the deadline Begin recorded.
func (s *Stop) Deadline() time.Duration { return time.Duration(s.deadline.Load()) }
