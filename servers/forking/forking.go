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
// The parent therefore re-executes its own binary per connection
// (Options.Command), passing the socket as descriptor 3, and each child
// pays what fork() alone would not: an execve of the whole binary, the
// dynamic set-up of a fresh Go runtime (heap, threads, GC, signal
// handlers), package initialisation and a new httpcore.Core, about one to
// a few milliseconds and a few MiB of fresh resident memory per
// connection, where a C server's fork() copies page tables and shares
// every page copy-on-write in a fraction of that. This architecture
// therefore overstates the cost of the 1999 process-per-connection model
// on modern Linux; its numbers measure "exec per connection".
package forking

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

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

// acceptPoll is how often a blocked accept wakes up to look for a
// shutdown: closing a listener does not wake a blocking accept on Linux.
const acceptPoll = 100 * time.Millisecond

// Options configures a Server.
type Options struct {
	// Command is a child's argv (Command[0] is the binary). The child
	// serves the connection at ConnFD to its end and exits (ChildMain).
	Command []string
	// Env is a child's environment, default os.Environ(); GOMAXPROCS=1
	// is appended: a child serves one connection on one thread.
	Env []string
	// Stderr receives the children's standard error, default os.Stderr.
	// An *os.File is handed down as is; any other writer costs a pipe and
	// a copying goroutine per child.
	Stderr io.Writer
	// MaxChildren bounds the children alive at once, default
	// DefaultMaxChildren; beyond it the parent stops accepting and new
	// connections wait in the listen backlog.
	MaxChildren int
	// Stats, when set, counts connections and failed accepts and child
	// starts. Requests are served, and so counted, in the children.
	Stats *stats.Counters
	// SampleEvery is how often the memory of the process tree is
	// sampled for PeakMemory, default DefaultSampled.
	SampleEvery time.Duration
}

func (o Options) withDefaults() Options {
	if o.Env == nil {
		o.Env = os.Environ()
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.MaxChildren <= 0 {
		o.MaxChildren = DefaultMaxChildren
	}
	if o.SampleEvery <= 0 {
		o.SampleEvery = DefaultSampled
	}
	return o
}

// Server accepts connections and starts a child process for each.
type Server struct {
	lfd      int
	opts     Options
	env      []string
	slots    chan struct{} // one token per live child
	stop     chan struct{}
	stopOnce sync.Once
	deadline atomic.Int64 // shutdown deadline in nanoseconds
	done     chan struct{}
	peak     proctree.Peak
	started  atomic.Uint64
	failed   atomic.Uint64 // children that exited non-zero

	mu       sync.Mutex
	children map[int]*os.Process
	reaped   sync.WaitGroup
}

// New returns a Server for the listening socket lfd. It makes lfd
// blocking: the parent sleeps in accept4. The caller keeps ownership of
// lfd.
func New(lfd int, opts Options) (*Server, error) {
	opts = opts.withDefaults()
	if len(opts.Command) == 0 {
		return nil, errors.New("forking: no child command")
	}
	if err := unix.SetNonblock(lfd, false); err != nil {
		return nil, fmt.Errorf("forking: listener: %w", os.NewSyscallError("fcntl", err))
	}
	tv := unix.NsecToTimeval(acceptPoll.Nanoseconds())
	if err := unix.SetsockoptTimeval(lfd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, fmt.Errorf("forking: listener: %w", os.NewSyscallError("setsockopt", err))
	}
	return &Server{
		lfd:      lfd,
		opts:     opts,
		env:      append(append([]string(nil), opts.Env...), "GOMAXPROCS=1"),
		slots:    make(chan struct{}, opts.MaxChildren),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		children: map[int]*os.Process{},
	}, nil
}

// Children returns the process ids of the live children.
func (s *Server) Children() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	pids := make([]int, 0, len(s.children))
	for pid := range s.children {
		pids = append(pids, pid)
	}
	return pids
}

// Started returns how many children were started.
func (s *Server) Started() uint64 { return s.started.Load() }

// Failed returns how many children exited with a non-zero status or a
// signal (a child that could not start serving, or one killed at
// shutdown).
func (s *Server) Failed() uint64 { return s.failed.Load() }

// PeakMemory returns the peak resident memory of the parent and its
// children, sampled every Options.SampleEvery (see proctree.Peak).
func (s *Server) PeakMemory() proctree.Memory { return s.peak.Max() }

// Shutdown stops accepting, lets every child finish its connection, kills
// those still alive after deadline, and returns once all are reaped and
// Run is about to return.
func (s *Server) Shutdown(deadline time.Duration) {
	s.stopOnce.Do(func() {
		s.deadline.Store(int64(deadline))
		close(s.stop)
		// Refuse new connections now, pending ones included, and wake the
		// blocked accept4 (EINVAL).
		unix.Shutdown(s.lfd, unix.SHUT_RD)
	})
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
	stopSampling := s.sample()
	defer stopSampling()
	err := s.acceptLoop()
	s.sampleNow() // the children's peaks, before they exit
	s.drain(time.Duration(s.deadline.Load()))
	return err
}
