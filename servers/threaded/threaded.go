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
	"runtime"
	"time"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/connloop"
	"flashbench/servers/internal/listen"
	"flashbench/servers/internal/stats"
)

// DefaultThreads is the thread count of the Flash paper's MT server.
const DefaultThreads = 64

// Options configures a Server.
type Options struct {
	// Threads is the number of serving threads, default DefaultThreads:
	// at most this many connections are served at once, more wait in the
	// listen backlog.
	Threads int
	// Conn tunes each connection (timeouts, buffer size, OnError). Its
	// MaxConns, when positive, bounds the connections open at once below
	// Threads: at the bound the thread whose turn it is waits for a
	// connection to close before it accepts. Its Conns must be set
	// (connloop.Track): Shutdown ends the connections through it.
	Conn connloop.Options
	// Stats, when set, counts accepted connections and failed accepts.
	Stats *stats.Counters
}

// Server serves a listening socket with a pool of OS threads.
type Server struct {
	acc     *listen.Acceptor
	core    *httpcore.Core
	opts    Options
	stop    *listen.Stop
	threads int
	done    chan struct{}
}

// New returns a Server for the listening socket lfd. It makes lfd
// blocking: the threads sleep in accept4 rather than poll it. The caller
// keeps ownership of lfd and core.
func New(lfd int, core *httpcore.Core, opts Options) (*Server, error) {
	if opts.Threads <= 0 {
		opts.Threads = DefaultThreads
	}
	if opts.Conn.Conns == nil {
		return nil, errors.New("threaded: no connection tracking (Options.Conn.Conns)")
	}
	// The threads take turns in accept4 (see the package comment).
	acc, err := listen.NewAcceptor(lfd, listen.Options{Blocking: true, MaxConns: opts.Conn.MaxConns,
		Counters: listen.Counting(opts.Stats), Turn: new(turn)})
	if err != nil {
		return nil, err
	}
	return &Server{acc: acc, core: core, opts: opts, stop: listen.NewStop(lfd),
		done: make(chan struct{}), threads: opts.Threads}, nil
}

// Run serves until Shutdown, then returns once every thread has finished
// its connection (or Shutdown's deadline cut it off). It returns the first
// error that stopped a thread.
func (s *Server) Run() error {
	defer close(s.done)
	if procs := runtime.GOMAXPROCS(0); procs < s.threads {
		runtime.GOMAXPROCS(s.threads)
		defer runtime.GOMAXPROCS(procs)
	}
	errs := make(chan error, s.threads)
	for range s.threads {
		go func() {
			// The goroutine keeps its thread for life, and the thread
			// does nothing else: one kernel thread per connection.
			runtime.LockOSThread()
			errs <- connloop.ServeListener(s.acc, s.core, s.opts.Conn, s.stop.C())
		}()
	}
	var first error
	for range s.threads {
		if err := <-errs; err != nil && first == nil {
			first = fmt.Errorf("threaded: %w", err)
			s.stopAccepting()
			s.opts.Conn.Conns.Cut()
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
	s.opts.Conn.Conns.Cut()
	<-s.done
}

// stopAccepting tells the threads to stop and shuts the listener down
// (listen.Stop), and closes the connections idle between requests
// (connloop.Conns.Stop).
func (s *Server) stopAccepting() {
	if s.stop.Begin(0) {
		s.opts.Conn.Conns.Stop() // connections idle between requests end now
	}
}
