// Package threaded is the multi-threaded (MT) flashbench architecture of
// the Flash paper: one process whose kernel threads each run a blocking
// accept-serve loop, so that every connection occupies one kernel thread
// for its whole life.
//
// Go schedules goroutines, not threads, and hides blocking I/O behind the
// netpoller. To get the MT model, every serving goroutine is locked to its
// own OS thread (runtime.LockOSThread) and makes plain blocking system
// calls on raw descriptors: accept4 on the listener, then read, writev and
// sendfile on the connection (connloop). A thread blocked in read is a
// thread the kernel must schedule around, exactly as in Flash-MT; the
// pathname, header and mapped-file caches are shared by all threads.
//
// The threads take turns in accept4: one waits in it, the others wait for
// their turn. Linux reserves the new connection's descriptor when accept4
// is entered, not when a connection arrives, so every thread blocked in
// accept4 holds a descriptor slot while it waits. With every idle thread
// in accept4, a pool about as large as the free descriptors leaves none
// for the files the serving threads must open, and they answer 500. One
// waiting thread holds one slot, whatever the pool size.
//
// Run raises GOMAXPROCS to at least the thread count. A locked thread that
// returns from a blocking call needs one of the GOMAXPROCS processors to
// run Go code; with fewer processors than threads (a server pinned to one
// core gets GOMAXPROCS=1) the threads would queue for them in the Go
// scheduler, a second scheduler on top of the kernel's that a C MT server
// does not have. With one processor per thread only the kernel decides
// which thread runs, as in the paper.
package threaded

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/connloop"
	"flashbench/servers/internal/stats"
)

// DefaultThreads is the thread count of the Flash paper's MT server.
const DefaultThreads = 64

// acceptPoll is how often a blocked accept wakes up to look for a
// shutdown: closing a listener from another thread does not wake a
// blocking accept on Linux, a receive timeout does.
const acceptPoll = 100 * time.Millisecond

// Options configures a Server.
type Options struct {
	// Threads is the number of serving threads, default DefaultThreads:
	// at most this many connections are served at once, more wait in the
	// listen backlog.
	Threads int
	// Conn tunes each connection (timeouts, buffer size, OnError).
	Conn connloop.Options
	// Stats, when set, counts accepted connections and failed accepts.
	Stats *stats.Counters
}

// Server serves a listening socket with a pool of OS threads.
type Server struct {
	lfd   int
	core  *httpcore.Core
	opts  Options
	stop  chan struct{}
	once  sync.Once
	slots []slot
	done  chan struct{}
	// turn is held by the one thread that may be in accept4.
	turn turn
}

// slot is the connection a thread is serving, -1 when none; the lock
// keeps Shutdown from touching a descriptor the thread has closed (and the
// kernel may have reused).
type slot struct {
	mu sync.Mutex
	fd int
}

// New returns a Server for the listening socket lfd. It makes lfd
// blocking: the threads sleep in accept4 rather than poll it. The caller
// keeps ownership of lfd and core.
func New(lfd int, core *httpcore.Core, opts Options) (*Server, error) {
	if opts.Threads <= 0 {
		opts.Threads = DefaultThreads
	}
	if err := unix.SetNonblock(lfd, false); err != nil {
		return nil, fmt.Errorf("threaded: listener: %w", os.NewSyscallError("fcntl", err))
	}
	tv := unix.NsecToTimeval(acceptPoll.Nanoseconds())
	if err := unix.SetsockoptTimeval(lfd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, fmt.Errorf("threaded: listener: %w", os.NewSyscallError("setsockopt", err))
	}
	s := &Server{lfd: lfd, core: core, opts: opts, stop: make(chan struct{}), done: make(chan struct{}),
		slots: make([]slot, opts.Threads)}
	for i := range s.slots {
		s.slots[i].fd = -1
	}
	return s, nil
}

// Run serves until Shutdown, then returns once every thread has finished
// its connection (or Shutdown's deadline cut it off). It returns the first
// error that stopped a thread.
func (s *Server) Run() error {
	defer close(s.done)
	if procs := runtime.GOMAXPROCS(0); procs < len(s.slots) {
		runtime.GOMAXPROCS(len(s.slots))
		defer runtime.GOMAXPROCS(procs)
	}
	errs := make(chan error, len(s.slots))
	for i := range s.slots {
		go func() {
			// The goroutine keeps its thread for life, and the thread
			// does nothing else: one kernel thread per connection.
			runtime.LockOSThread()
			errs <- s.loop(&s.slots[i])
		}()
	}
	var first error
	for range s.slots {
		if err := <-errs; err != nil && first == nil {
			first = err
			s.stopAccepting()
			s.cut()
		}
	}
	return first
}

// Shutdown stops accepting, lets every thread finish the connection it
// serves, and after deadline shuts those connections down, which ends
// their blocking calls. It returns when Run is about to return.
func (s *Server) Shutdown(deadline time.Duration) {
	s.stopAccepting()
	select {
	case <-s.done:
		return
	case <-time.After(deadline):
	}
	s.cut()
	<-s.done
}

// stopAccepting tells the threads to stop and shuts the listener down:
// new connections are refused, pending ones included, the threads
// blocked in accept4 wake up (EINVAL), and connections idle between
// requests are closed (connloop.Conns.Stop).
func (s *Server) stopAccepting() {
	s.once.Do(func() {
		close(s.stop)
		unix.Shutdown(s.lfd, unix.SHUT_RD)
		s.opts.Conn.Conns.Stop() // connections idle between requests end now
	})
}

// cut shuts down the connections the threads are serving.
func (s *Server) cut() {
	for i := range s.slots {
		sl := &s.slots[i]
		sl.mu.Lock()
		if sl.fd >= 0 {
			unix.Shutdown(sl.fd, unix.SHUT_RDWR)
		}
		sl.mu.Unlock()
	}
}

// loop is one thread: accept, serve the connection to its end, close.
func (s *Server) loop(sl *slot) error {
	for {
		select {
		case <-s.stop:
			return nil
		default:
		}
		fd, err := s.acceptTurn()
		if err != nil {
			if errors.Is(err, errClosed) {
				return nil
			}
			if s.opts.Stats != nil {
				s.opts.Stats.AcceptErrors.Add(1)
			}
			return err
		}
		if s.opts.Stats != nil {
			s.opts.Stats.Connections.Add(1)
		}
		sl.mu.Lock()
		sl.fd = fd
		sl.mu.Unlock()
		serveErr := connloop.Serve(fd, s.core, s.opts.Conn)
		sl.mu.Lock()
		sl.fd = -1
		unix.Close(fd)
		sl.mu.Unlock()
		if serveErr != nil && s.opts.Conn.OnError != nil {
			s.opts.Conn.OnError(serveErr)
		}
	}
}

// acceptTurn waits for this thread's turn, then accepts a connection,
// keeping the turn through accept's timeouts and its back-off after
// EMFILE: a full descriptor table is polled by one thread, not by every
// idle one. After a shutdown each thread in turn finds stop closed and
// passes the turn on, so that the waiting threads all wake up and return.
func (s *Server) acceptTurn() (int, error) {
	s.turn.lock()
	defer s.turn.unlock()
	for {
		select {
		case <-s.stop:
			return -1, errClosed
		default:
		}
		fd, err := accept(s.lfd)
		if !errors.Is(err, errRetry) {
			return fd, err
		}
	}
}

var (
	errRetry  = errors.New("retry accept")
	errClosed = errors.New("listener closed")
)

// accept blocks in accept4 for at most acceptPoll. Transient failures
// (timeout, signal, aborted handshake, descriptor exhaustion) are
// errRetry; a closed listener is errClosed.
func accept(lfd int) (int, error) {
	fd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
	switch {
	case err == nil:
		return fd, nil
	case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR), errors.Is(err, unix.ECONNABORTED):
		return -1, errRetry
	case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE),
		errors.Is(err, unix.ENOBUFS), errors.Is(err, unix.ENOMEM):
		time.Sleep(10 * time.Millisecond) // let connections finish and free descriptors
		return -1, errRetry
	case errors.Is(err, unix.EBADF), errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOTSOCK):
		return -1, errClosed
	}
	return -1, fmt.Errorf("threaded: %w", os.NewSyscallError("accept4", err))
}
