// Package forking is the NCSA-style multi-process (MP) flashbench
// architecture: the parent accepts each connection and hands it to a new
// process that serves all its requests and exits. Nothing survives a
// connection: every child starts with empty pathname, header and
// mapped-file caches, as NCSA httpd had none.
//
// Go cannot fork without exec. A forked Go child would own a copy of the
// parent's memory but only the forking thread, without the runtime's
// other threads (scheduler, garbage collector, signal handling), so the
// runtime offers fork only fused with exec (syscall.ForkExec, os/exec).
// The parent therefore executes a program per connection
// (Options.Command: the webserver's webserver-child, which links the HTTP
// core and ChildMain alone), passing the socket as descriptor 3, and each
// child pays what fork() alone would not: an execve, the start of a fresh
// Go runtime (heap, threads, GC, signal handlers), package initialisation
// and a new httpcore.Core, a millisecond or more per connection, where a
// C server's fork() copies page tables and shares every page
// copy-on-write in a fraction of that. This architecture therefore
// overstates the cost of the 1999 process-per-connection model on modern
// Linux; its numbers measure "exec per connection".
package forking

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"flashbench/servers/internal/listen"
	"flashbench/servers/internal/proctree"
	"flashbench/servers/internal/stats"
)

// Defaults for zero Options fields.
const (
	// DefaultMaxChildren bounds the children alive at once.
	DefaultMaxChildren = 256
	// DefaultSampled is the memory sampling period: short, because a
	// child lives only as long as its connection.
	DefaultSampled = 100 * time.Millisecond
)

// ConnFD is the descriptor at which a child finds its connection.
const ConnFD = 3

// Options configures a Server.
type Options struct {
	// Children are the children's command, environment and standard
	// error, and the memory sampling period, default DefaultSampled. A
	// child serves the connection at ConnFD to its end and exits
	// (ChildMain).
	proctree.Children
	// MaxChildren bounds the children alive at once, and so the
	// connections open at once, default DefaultMaxChildren; beyond it the
	// parent stops accepting and new connections wait in the listen
	// backlog.
	MaxChildren int
	// Stats, when set, counts connections and failed accepts and child
	// starts. Requests are served, and so counted, in the children.
	Stats *stats.Counters
}

func (o Options) withDefaults() Options {
	o.Children = o.Children.WithDefaults(DefaultSampled)
	if o.MaxChildren <= 0 {
		o.MaxChildren = DefaultMaxChildren
	}
	return o
}

// Server accepts connections and starts a child process for each.
type Server struct {
	lfd   int
	acc   *listen.Acceptor
	opts  Options
	stop  *listen.Stop
	done  chan struct{}
	group proctree.Group
}

// New returns a Server for the listening socket lfd. It makes lfd
// blocking: the parent sleeps in accept4. The caller keeps ownership of
// lfd.
func New(lfd int, opts Options) (*Server, error) {
	opts = opts.withDefaults()
	if len(opts.Command) == 0 {
		return nil, errors.New("forking: no child command")
	}
	acc, err := listen.NewAcceptor(lfd, listen.Options{Blocking: true, MaxConns: opts.MaxChildren,
		Counters: listen.Counting(opts.Stats)})
	if err != nil {
		return nil, fmt.Errorf("forking: %w", err)
	}
	return &Server{
		lfd:  lfd,
		acc:  acc,
		opts: opts,
		stop: listen.NewStop(lfd),
		done: make(chan struct{}),
	}, nil
}

// Children returns the process ids of the live children.
func (s *Server) Children() []int { return s.group.Pids() }

// Started returns how many children were started.
func (s *Server) Started() uint64 { return s.group.Started() }

// Failed returns how many children exited with a non-zero status or a
// signal (a child that could not start serving, or one killed at
// shutdown).
func (s *Server) Failed() uint64 { return s.group.Failed() }

// PeakMemory returns the peak resident memory of the parent and its
// children, sampled every Options.SampleEvery (see proctree.Peak).
func (s *Server) PeakMemory() proctree.Memory { return s.group.PeakMemory() }

// Shutdown stops accepting, lets every child finish its connection, kills
// those still alive after deadline, and returns once all are reaped and
// Run is about to return.
func (s *Server) Shutdown(deadline time.Duration) {
	s.stop.Begin(deadline)
	<-s.done
}

// Run accepts connections and starts a child for each until Shutdown,
// then waits for the children. It runs on one locked OS thread: children
// get PR_SET_PDEATHSIG, which fires when the thread that started them
// exits, and the Go runtime retires a thread when a goroutine locked to
// it exits; starting every child from this thread, which stays until all
// children are reaped, ties their lives to the parent's alone.
func (s *Server) Run() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(s.done)
	stopSampling := s.group.SampleEvery(s.opts.SampleEvery)
	defer stopSampling()
	err := s.acceptLoop()
	s.group.SampleNow() // the children's peaks, before they exit
	// Finish the response being sent, close an idle connection.
	s.group.Drain(GracefulStop, s.stop.Deadline())
	return err
}
