package amped

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/proctree"
)

// DefaultHelpers is the default bound on helper processes, lowered by
// HelpersFor when the server's memory cgroup is small. Each helper has
// one disk operation in flight, so the bound is the number of reads the
// server can have outstanding: 8 gives a disk's queue parallel work to
// reorder, while every runnable helper beyond that competes with the loop
// for the CPU (on a 2-core machine 16 helpers served a cold set more slowly
// than 4). Helpers start only when a job finds none idle, so a cached
// workload starts none.
const DefaultHelpers = 8

// ErrHelperFailed is the outcome of a job whose helper died twice: once on
// the first helper, once on the helper it was retried on.
var ErrHelperFailed = errors.New("amped: helper died during the job")

// Poller registers descriptors and timers with the event loop the pool
// runs on. *evloop.Loop satisfies it; every call happens on the loop
// thread.
type Poller interface {
	AddFd(fd int, events uint32, fn func(events uint32)) error
	RemoveFd(fd int) error
	After(d time.Duration, fn func())
}

// PoolOptions configures a Pool.
type PoolOptions struct {
	// Helpers bounds the helper processes; when zero, HelpersFor the
	// limit of the server's memory cgroup (DefaultHelpers without one).
	Helpers int
	// Command is the argv of a helper: a program that runs HelperMain on
	// its standard input and output (the webserver's hidden amped-helper
	// subcommand, or a test binary re-executing itself).
	Command []string
	// Env, when not nil, is the helper's environment.
	Env []string
	// Reserve is the number of helpers started with the pool, before any
	// job asks for one (at most Helpers); the rest start on demand.
	Reserve int
	// Timeout bounds a job: a helper that has not replied within it (a
	// disk that never answers, a helper stuck) is killed with SIGKILL,
	// reaped, and its job retried once or failed, as when a helper dies.
	// DefaultTimeout when zero; negative means no bound.
	Timeout time.Duration
}

// Pool runs helper processes for one event loop. It spawns a helper when
// a job finds none idle, up to the bound, keeps idle helpers in reserve,
// and queues jobs while every helper is busy. A helper that dies, or
// outlives its job's deadline and is killed, is reaped and its job retried
// once on another helper; helpers that die before completing any job are
// replaced only after a growing delay (see supervise.go). All methods but
// Stats run on the loop thread, and job callbacks run there too.
type Pool struct {
	opts    PoolOptions
	poller  Poller
	helpers []*helper // alive
	idle    []*helper
	queue   []*job
	// pending holds every job queued or in flight by what it asks for,
	// so that a second request for the same work waits for the first
	// job instead of taking another helper (many clients ask for the
	// same cold file at once).
	pending map[jobKey]*job
	nextID  uint64
	closed  bool
	group   proctree.Group // starts and reaps the helpers
	stats   counters
	super   supervisor
}

type job struct {
	req   Request
	done  func(errno syscall.Errno, err error)
	more  []func(errno syscall.Errno, err error) // coalesced submitters
	tries int
}

// jobKey is what a job asks a helper to do, without its id.
type jobKey struct {
	kind           Kind
	path           string
	offset, length int64
}

func (j *job) key() jobKey {
	return jobKey{kind: j.req.Kind, path: j.req.Path, offset: j.req.Offset, length: j.req.Length}
}

// finish reports the job's outcome to everyone who submitted it.
func (j *job) finish(errno syscall.Errno, err error) {
	j.done(errno, err)
	for _, done := range j.more {
		done(errno, err)
	}
}

type helper struct {
	cmd  *exec.Cmd
	wfd  int // requests to the helper
	rfd  int // replies from the helper
	buf  [ReplySize]byte
	n    int // bytes of a partial reply in buf
	job  *job
	wbuf []byte
	dead bool
	// deadline is when the job in flight times out.
	deadline time.Time
	// served counts the jobs h completed: a helper that dies before its
	// first completion counts as a failed start.
	served int
}

// NewPool returns a pool that registers helper pipes with poller.
func NewPool(poller Poller, opts PoolOptions) (*Pool, error) {
	if len(opts.Command) == 0 {
		return nil, errors.New("amped: no helper command")
	}
	if opts.Helpers <= 0 {
		opts.Helpers = HelpersFor(memoryLimit())
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	opts.Reserve = min(opts.Reserve, opts.Helpers)
	return &Pool{opts: opts, poller: poller, pending: map[jobKey]*job{}}, nil
}

// Start starts the reserve of idle helpers. Call it on the loop thread.
func (p *Pool) Start() error {
	for len(p.helpers) < p.opts.Reserve {
		h, err := p.spawn()
		if err != nil {
			return err
		}
		p.idle = append(p.idle, h)
	}
	return nil
}

// Submit queues a job; done is called on the loop thread with the
// helper's errno once a helper completed it, or with ErrHelperFailed
// (helpers died) or another error (no helper could be started, or the
// pool is closed). done never runs before Submit has returned. A job
// asking for the same work as one already queued or in flight is not
// sent again: done waits for that one's outcome.
func (p *Pool) Submit(req Request, done func(errno syscall.Errno, err error)) {
	if p.closed {
		p.fail(&job{done: done}, errors.New("amped: pool closed"))
		return
	}
	j := &job{req: req, done: done}
	if first := p.pending[j.key()]; first != nil {
		first.more = append(first.more, done)
		p.stats.coalesced.Add(1)
		return
	}
	p.pending[j.key()] = j
	p.nextID++
	if req.Kind == KindResolve {
		p.stats.resolves.Add(1)
		if req.Length > 0 {
			p.stats.resolveReads.Add(1)
		}
	} else {
		p.stats.pageIns.Add(1)
	}
	j.req.ID = p.nextID
	p.queue = append(p.queue, j)
	p.dispatch()
}

// dispatch hands queued jobs to idle helpers, spawning helpers while
// below the bound.
func (p *Pool) dispatch() {
	for len(p.queue) > 0 && !p.closed {
		var h *helper
		switch {
		case len(p.idle) > 0:
			h = p.idle[len(p.idle)-1]
			p.idle = p.idle[:len(p.idle)-1]
		case len(p.helpers) < p.opts.Helpers:
			if !p.maySpawn() {
				return
			}
			var err error
			if h, err = p.spawn(); err != nil {
				p.startFailed()
				if len(p.helpers) == 0 {
					p.failAll(err)
				}
				return
			}
		default:
			return // every helper is busy; a reply will dispatch again
		}
		j := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.send(h, j)
	}
}

// send writes j to h. The pipe is empty (h read its previous request
// whole before replying), so one write takes the whole request; a helper
// whose pipe refuses it is treated as dead.
func (p *Pool) send(h *helper, j *job) {
	h.job = j
	var err error
	if h.wbuf, err = AppendRequest(h.wbuf[:0], j.req); err != nil {
		h.job = nil
		p.idle = append(p.idle, h)
		p.fail(j, err)
		return
	}
	p.armDeadline(h)
	n, err := unix.Write(h.wfd, h.wbuf)
	if err != nil || n != len(h.wbuf) {
		p.died(h)
	}
}

func (p *Pool) failAll(err error) {
	q := p.queue
	p.queue = nil
	for _, j := range q {
		p.fail(j, err)
	}
}

// fail reports err to j from the loop's next round, so that a failure
// found inside Submit never runs done before Submit returns.
func (p *Pool) fail(j *job, err error) {
	p.stats.failed.Add(1)
	p.forget(j)
	p.poller.After(0, func() { j.finish(0, err) })
}

// forget removes j from the jobs pending, once its outcome is known.
func (p *Pool) forget(j *job) {
	if k := j.key(); p.pending[k] == j {
		delete(p.pending, k)
	}
}

// spawn starts one helper with its two pipes and registers the reply pipe.
func (p *Pool) spawn() (*helper, error) {
	var req, rep [2]int
	if err := unix.Pipe2(req[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("amped: spawn helper: %w", os.NewSyscallError("pipe2", err))
	}
	if err := unix.Pipe2(rep[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		unix.Close(req[0])
		unix.Close(req[1])
		return nil, fmt.Errorf("amped: spawn helper: %w", os.NewSyscallError("pipe2", err))
	}
	// The helper's ends are blocking; the parent's ends are non-blocking
	// so that a stuck helper can never stall the loop.
	if err := setNonblock(rep[1], false, req[1], true); err != nil {
		closeAll(req[0], req[1], rep[0], rep[1])
		return nil, fmt.Errorf("amped: spawn helper: %w", err)
	}
	childIn := os.NewFile(uintptr(req[0]), "amped-helper-stdin")
	childOut := os.NewFile(uintptr(rep[1]), "amped-helper-stdout")
	cmd := exec.Command(p.opts.Command[0], p.opts.Command[1:]...)
	cmd.Env = helperEnv(p.opts.Env)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = childIn, childOut, os.Stderr
	err := p.group.Start(cmd, nil) // from the loop's locked thread: Pdeathsig holds
	childIn.Close()
	childOut.Close()
	if err != nil {
		unix.Close(req[1])
		unix.Close(rep[0])
		return nil, fmt.Errorf("amped: spawn helper: %w", err)
	}
	h := &helper{cmd: cmd, wfd: req[1], rfd: rep[0]}
	if err := p.poller.AddFd(h.rfd, unix.EPOLLIN, func(ev uint32) { p.readable(h, ev) }); err != nil {
		p.kill(h)
		return nil, fmt.Errorf("amped: spawn helper: %w", err)
	}
	p.helpers = append(p.helpers, h)
	p.stats.spawns.Add(1)
	return h, nil
}

// helperEnv returns env (the server's own environment when nil) with
// GOMAXPROCS=1 unless it sets GOMAXPROCS: a helper does one job at a time,
// and every extra P costs it threads and memory.
func helperEnv(env []string) []string {
	if env == nil {
		env = os.Environ()
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "GOMAXPROCS=") {
			return env
		}
	}
	return append(env[:len(env):len(env)], "GOMAXPROCS=1")
}

func setNonblock(fd1 int, nb1 bool, fd2 int, nb2 bool) error {
	if err := unix.SetNonblock(fd1, nb1); err != nil {
		return os.NewSyscallError("fcntl", err)
	}
	if err := unix.SetNonblock(fd2, nb2); err != nil {
		return os.NewSyscallError("fcntl", err)
	}
	return nil
}

func closeAll(fds ...int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// readable reads the replies h wrote. End of file, an error or a hang-up
// with nothing to read means h died.
func (p *Pool) readable(h *helper, events uint32) {
	for {
		n, err := unix.Read(h.rfd, h.buf[h.n:])
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return
		}
		if err != nil || n == 0 {
			p.died(h)
			return
		}
		h.n += n
		if h.n < ReplySize {
			continue
		}
		h.n = 0
		r, _, _ := DecodeReply(h.buf[:])
		j := h.job
		if j == nil || r.ID != j.req.ID {
			p.died(h) // a reply nobody asked for: the stream is broken
			return
		}
		h.job = nil
		h.served++
		p.super.failures = 0
		p.idle = append(p.idle, h)
		p.forget(j)
		j.finish(r.Errno, nil)
		p.dispatch()
		if h.dead {
			return // its descriptors are closed, maybe already reused
		}
	}
}

// died removes h, kills and reaps it, and retries its job once.
func (p *Pool) died(h *helper) {
	if !p.remove(h) {
		return
	}
	p.stats.deaths.Add(1)
	p.kill(h)
	if h.served == 0 {
		p.startFailed()
	}
	if j := h.job; j != nil {
		h.job = nil
		j.tries++
		if j.tries > 1 {
			p.fail(j, ErrHelperFailed)
		} else {
			p.stats.retried.Add(1)
			p.queue = append([]*job{j}, p.queue...)
		}
	}
	p.dispatch()
}

// remove drops h from the pool's lists; false if it was not there.
func (p *Pool) remove(h *helper) bool {
	if h.dead {
		return false
	}
	h.dead = true
	found := false
	for i, x := range p.helpers {
		if x == h {
			p.helpers = append(p.helpers[:i], p.helpers[i+1:]...)
			found = true
			break
		}
	}
	for i, x := range p.idle {
		if x == h {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			break
		}
	}
	return found
}

// kill closes h's pipes and kills it; the group reaps it as it exits, so
// none stays a zombie.
func (p *Pool) kill(h *helper) {
	p.poller.RemoveFd(h.rfd)
	closeAll(h.rfd, h.wfd)
	h.cmd.Process.Kill()
}

// Close kills every helper and waits until every helper the pool ever
// started has been reaped. Jobs still queued or in flight are dropped
// without their callbacks: call Close once the loop has stopped.
func (p *Pool) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	for _, h := range append([]*helper(nil), p.helpers...) {
		p.remove(h)
		p.kill(h)
	}
	p.queue = nil
	clear(p.pending)
	p.group.Wait()
	return nil
}

// Helpers returns the process ids of the live helpers.
func (p *Pool) Helpers() []int {
	pids := make([]int, len(p.helpers))
	for i, h := range p.helpers {
		pids[i] = h.cmd.Process.Pid
	}
	return pids
}
