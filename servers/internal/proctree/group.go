package proctree

import (
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Group supervises the children a server re-executes itself into (Go
// cannot fork without exec): a forking server's connection children, a
// prefork master's workers, amped's helpers. It starts them so that they
// die with the parent, reaps each as it exits (none stays a zombie),
// drains them at shutdown, and samples the memory of the parent and its
// live children. The zero value is ready; it is safe for concurrent use.
type Group struct {
	mu     sync.Mutex
	live   map[int]*os.Process
	reaped sync.WaitGroup

	started, failed atomic.Uint64
	peak            Peak
}

// Exit is how a child of a Group ended.
type Exit struct {
	// Pid is the child's process id.
	Pid int
	// Err is what exec.Cmd.Wait returned: nil for exit status 0.
	Err error
	// Age is how long the child lived.
	Age time.Duration
}

// Children is how a server starts its re-executed children (forking's
// connection children, prefork's workers) and samples their memory.
type Children struct {
	// Command is a child's argv (Command[0] is the binary).
	Command []string
	// Env is a child's environment, default os.Environ(); GOMAXPROCS=1
	// is appended: a child serves one connection at a time on one
	// thread.
	Env []string
	// Stderr receives the children's standard error and the parent's
	// reports of them, default os.Stderr. An *os.File is handed down as
	// is; any other writer costs a pipe and a copying goroutine per
	// child.
	Stderr io.Writer
	// SampleEvery is how often the memory of the parent and its
	// children is sampled (Group.SampleEvery); zero means the server's
	// default.
	SampleEvery time.Duration
}

// WithDefaults returns c with its defaults set, sample the period of
// SampleEvery.
func (c Children) WithDefaults(sample time.Duration) Children {
	if c.Env == nil {
		c.Env = os.Environ()
	}
	if c.Stderr == nil {
		c.Stderr = os.Stderr
	}
	if c.SampleEvery <= 0 {
		c.SampleEvery = sample
	}
	return c
}

// Cmd returns the command of one child, for Start: files become its
// descriptors 3, 4, ...
func (c Children) Cmd(files ...*os.File) *exec.Cmd {
	cmd := exec.Command(c.Command[0], c.Command[1:]...)
	cmd.Env = append(c.Env[:len(c.Env):len(c.Env)], "GOMAXPROCS=1")
	cmd.Stderr = c.Stderr
	cmd.ExtraFiles = files
	return cmd
}

// Start starts cmd as a child of g, with PR_SET_PDEATHSIG set to SIGKILL,
// and reaps it in a goroutine that calls onExit (when not nil) once the
// child has left g, before Drain or Wait can return.
//
// Pdeathsig fires when the THREAD that started the child exits, not the
// process, and the Go runtime ends a thread when a goroutine locked to it
// exits. Call Start from a goroutine locked to its thread
// (runtime.LockOSThread) that stays locked until every child is reaped:
// the children then die with the parent, and only with it.
func (g *Group) Start(cmd *exec.Cmd, onExit func(Exit)) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return err
	}
	born, pid := time.Now(), cmd.Process.Pid
	g.mu.Lock()
	if g.live == nil {
		g.live = map[int]*os.Process{}
	}
	g.live[pid] = cmd.Process
	g.reaped.Add(1)
	g.mu.Unlock()
	g.started.Add(1)
	go func() {
		defer g.reaped.Done()
		err := cmd.Wait()
		if err != nil {
			g.failed.Add(1)
		}
		g.mu.Lock()
		delete(g.live, pid)
		g.mu.Unlock()
		if onExit != nil {
			onExit(Exit{Pid: pid, Err: err, Age: time.Since(born)})
		}
	}()
	return nil
}

// Pids returns the process ids of the live children.
func (g *Group) Pids() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	pids := make([]int, 0, len(g.live))
	for pid := range g.live {
		pids = append(pids, pid)
	}
	return pids
}

// Len returns how many children are alive (started and not yet reaped).
func (g *Group) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.live)
}

// Started returns how many children were started.
func (g *Group) Started() uint64 { return g.started.Load() }

// Failed returns how many children exited with a non-zero status or on a
// signal.
func (g *Group) Failed() uint64 { return g.failed.Load() }

// Signal sends sig to every live child.
func (g *Group) Signal(sig os.Signal) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.live {
		p.Signal(sig)
	}
}

// Drain asks every child to stop with sig, kills those still alive after
// deadline, and returns once every child is reaped. Start no child while
// it runs.
func (g *Group) Drain(sig os.Signal, deadline time.Duration) {
	all := make(chan struct{})
	go func() { g.Wait(); close(all) }()
	g.Signal(sig)
	t := time.NewTimer(deadline)
	defer t.Stop()
	select {
	case <-all:
		return
	case <-t.C:
	}
	g.Signal(os.Kill)
	<-all
}

// Wait returns once every child started so far is reaped.
func (g *Group) Wait() { g.reaped.Wait() }

// SampleEvery samples the memory of the parent and its live children
// every period, for PeakMemory, until the returned function is called.
func (g *Group) SampleEvery(period time.Duration) (stop func()) {
	return g.peak.SampleEvery(period, g.tree)
}

// SampleNow samples the memory of the parent and its live children once:
// at shutdown, the children's peaks before they exit.
func (g *Group) SampleNow() { g.peak.SampleSet(g.tree()) }

// PeakMemory returns the peak resident memory of the parent and its
// children sampled so far (see Peak).
func (g *Group) PeakMemory() Memory { return g.peak.Max() }

// tree is the parent and its live children.
func (g *Group) tree() []int { return append(g.Pids(), os.Getpid()) }
