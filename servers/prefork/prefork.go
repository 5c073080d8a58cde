// Package prefork is the multi-process (MP) flashbench architecture of
// the Flash paper, as Apache's prefork model runs it: a master opens the
// listening socket and starts N single-threaded worker processes that
// inherit it; each worker blocks in accept4 and serves one connection at a
// time. The workers share nothing but the socket: every one has its own
// pathname, header and mapped-file caches, as Flash-MP's processes did.
//
// Go cannot fork without exec, so the master re-executes its own binary
// for each worker (the command in Options.Command), passing the listener
// as descriptor 3, the shared accept counters as descriptor 4 and
// GOMAXPROCS=1 in the environment. A worker that dies is started again,
// after a growing delay if it keeps dying young. The workers are a
// proctree.Group: they die with the master (PR_SET_PDEATHSIG); on Shutdown
// the master sends SIGTERM to every worker, which finishes the connection
// it serves and exits; workers still alive at the deadline are killed; all
// are reaped before Run returns.
package prefork

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/listen"
	"flashbench/servers/internal/proctree"
	"flashbench/servers/internal/stats"
)

// Defaults for zero Options fields.
const (
	// DefaultWorkers is the process count of the Flash paper's MP server.
	DefaultWorkers    = 32
	DefaultMinBackoff = 10 * time.Millisecond
	DefaultMaxBackoff = 5 * time.Second
	// DefaultYoung is the lifetime under which a worker's death counts
	// as dying young and doubles the delay before its next start.
	DefaultYoung = time.Second
	// DefaultSampled is the memory sampling period: a worker's VmHWM
	// keeps its own peak, so a sample need only catch it alive, and the
	// master takes one more as shutdown starts.
	DefaultSampled = time.Second
)

// Descriptors a worker inherits.
const (
	// ListenerFD is the descriptor at which a worker finds the listener.
	ListenerFD = 3
	// CountersFD is the descriptor of the accept counters the workers
	// share with the master (stats.Shared).
	CountersFD = 4
)

// Options configures a Server.
type Options struct {
	// Workers is the number of worker processes, default DefaultWorkers:
	// as each serves one connection at a time, the bound on connections
	// served at once (Apache's MaxRequestWorkers); more wait in the
	// listen backlog.
	Workers int
	// Children are the workers' command, environment and standard
	// error, and the memory sampling period, default DefaultSampled. A
	// worker finds the blocking listener at ListenerFD and must exit on
	// SIGTERM once its current connection is done (WorkerMain does).
	proctree.Children
	// MinBackoff and MaxBackoff bound the delay before restarting a
	// worker that died young; Young is what young means.
	MinBackoff, MaxBackoff, Young time.Duration
	// Stats, when set, counts the connections the workers accept and
	// their failed accepts. Requests are served, and so counted, in the
	// workers.
	Stats *stats.Counters
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	o.Children = o.Children.WithDefaults(DefaultSampled)
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.Young <= 0 {
		o.Young = DefaultYoung
	}
	return o
}

// Server is the master of a pool of worker processes.
type Server struct {
	opts     Options
	listener *os.File // the master's duplicate of the listener, for ExtraFiles
	counters *stats.Shared
	spawn    chan spawnReq
	// exits has room for one exit per slot, the most there can be
	// pending: so a worker's reaper never waits for Run, which drains
	// the workers without reading it.
	exits    chan exit
	stop     *listen.Stop // on the master's duplicate of the listener
	done     chan struct{}
	group    proctree.Group
	restarts atomic.Uint64
}

// New returns a master for the listening socket lfd. It makes lfd
// blocking, since the workers sleep in accept4 on it. The caller keeps
// ownership of lfd; the master holds a duplicate until Run returns.
func New(lfd int, opts Options) (*Server, error) {
	opts = opts.withDefaults()
	if len(opts.Command) == 0 {
		return nil, errors.New("prefork: no worker command")
	}
	if err := unix.SetNonblock(lfd, false); err != nil {
		return nil, fmt.Errorf("prefork: listener: %w", os.NewSyscallError("fcntl", err))
	}
	counters, err := stats.NewShared()
	if err != nil {
		return nil, fmt.Errorf("prefork: %w", err)
	}
	if opts.Stats != nil {
		opts.Stats.AddShared(counters)
	}
	dup, err := unix.FcntlInt(uintptr(lfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		counters.File().Close()
		return nil, fmt.Errorf("prefork: listener: %w", os.NewSyscallError("fcntl", err))
	}
	return &Server{
		opts:     opts,
		listener: os.NewFile(uintptr(dup), "listener"),
		counters: counters,
		spawn:    make(chan spawnReq),
		exits:    make(chan exit, opts.Workers),
		stop:     listen.NewStop(dup),
		done:     make(chan struct{}),
	}, nil
}

// Workers returns the process ids of the live workers.
func (s *Server) Workers() []int { return s.group.Pids() }

// Size returns the number of worker processes the master keeps.
func (s *Server) Size() int { return s.opts.Workers }

// Restarts returns how many workers were started again after dying.
func (s *Server) Restarts() uint64 { return s.restarts.Load() }

// PeakMemory returns the peak resident memory of the master and its
// workers, sampled every Options.SampleEvery (see proctree.Peak).
func (s *Server) PeakMemory() proctree.Memory { return s.group.PeakMemory() }

// Shutdown asks every worker to finish its connection and exit, kills
// those still alive after deadline, and returns once all are reaped and
// Run is about to return.
func (s *Server) Shutdown(deadline time.Duration) {
	// The listening socket is shared with the workers: busy workers
	// finish the connection they serve.
	s.stop.Begin(deadline)
	<-s.done
}

// spawnReq asks the spawning thread to start the worker of a slot.
type spawnReq struct {
	slot  int
	reply chan error
}

// exit reports a reaped worker.
type exit struct {
	slot int
	err  error
	age  time.Duration
}

// spawner starts every worker from one OS thread that outlives them all.
// PR_SET_PDEATHSIG fires when the THREAD that created the child exits, not
// the process: a worker started from an ordinary goroutine would be killed
// the day the Go runtime retires that thread (it does when a goroutine
// locked to it exits). Locking this goroutine to its thread for as long as
// workers may run ties the workers' lives to the master's alone.
func (s *Server) spawner() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for req := range s.spawn {
		req.reply <- s.start(req.slot)
	}
}

// start starts the worker of slot; its reaper reports its exit to Run.
func (s *Server) start(slot int) error {
	cmd := s.opts.Cmd(s.listener, s.counters.File()) // at ListenerFD, CountersFD
	err := s.group.Start(cmd, func(e proctree.Exit) {
		s.exits <- exit{slot: slot, err: e.Err, age: e.Age}
	})
	if err != nil {
		return fmt.Errorf("prefork: start worker %d: %w", slot, err)
	}
	return nil
}
