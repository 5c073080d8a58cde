package cgi

import (
	"sync/atomic"
	"time"

	"flashbench/cgi-apps/cgiproto"
	"flashbench/servers/httpcore"
)

// Host is the event loop a Loop face runs on, with C its connection type:
// *evloop.Loop (epoll, C *evloop.Conn) and *uringloop.Loop (io_uring, C
// *uringloop.Conn) both are. The face needs no more of a loop than these
// calls, all made on the loop's thread, so one implementation of the
// persistent programs, their batching, timeouts and retries serves every
// event loop.
type Host[C any] interface {
	// Core plans the responses.
	Core() *httpcore.Core
	// AddFd has fn called with the ready events (epoll's bits: EPOLLIN,
	// EPOLLOUT, EPOLLERR, EPOLLHUP) while fd is registered, never after
	// RemoveFd, even when fd's number is reused at once. The face drains
	// the response pipe on every call, so edge-triggered readiness
	// suffices.
	AddFd(fd int, events uint32, fn func(events uint32)) error
	// RemoveFd ends AddFd's registration of fd; it does not close fd.
	RemoveFd(fd int) error
	// After runs fn once d has passed; the face batches a round's
	// writes with After(0, ...), which runs once the round's events are
	// handled.
	After(d time.Duration, fn func())
	// Complete hands the plan of a request ServeCGI left pending back to
	// the loop.
	Complete(c C)
	// SendsFiles reports whether the loop sends file ranges (sendfile). A
	// loop that does not gets every shared-memory body as bytes of the
	// mapped pool, kept ones too: sent straight from the shared pages
	// with one copy into the socket, as it sends every body.
	SendsFiles() bool
}

// Loop is the event-loop face (evloop.CGI, uringloop.CGI) on a loop of
// type L whose connections are C: the program pipes are registered in the
// loop (Host.AddFd), a request leaves ServeCGI pending, and the loop
// completes it when the response frame arrives. Its methods other than
// Counts and Close run on the loop's thread, which it never blocks (but
// for starting a process).
//
// A process may hold up to Options.Depth requests at once, answered in
// order: the requests given to it during one round of the event loop
// leave in one write at the end of the round (with the release frames
// due), the process answers all of them with one write, and the loop
// reads all the answers with one read. One wake-up of each side per
// batch instead of per request is what matters when server and programs
// share a core.
type Loop[L Host[C], C any] struct {
	opts  Options
	progs programs
	l     L
	pools map[string]*lpool[L, C]

	nextID   uint64
	busy     int  // requests held by processes
	sweeping bool // a timeout sweep is scheduled
	creq     cgiproto.Request

	dirty    []*lproc[L, C] // processes with frames to write at the end of the round
	flushing bool           // the end-of-round write is scheduled
	writing  []*lproc[L, C] // the dirty list being written (kept for reuse)
	spare    []*rchunk

	spawned, died, timedOut, requests, shared, buffers atomic.Uint64
}

// lpool is one program's processes.
type lpool[L Host[C], C any] struct {
	path    string
	all     []*lproc[L, C]
	waiting []waiter[C] // FIFO of requests no process could take yet
}

// waiter is a pending request.
type waiter[C any] struct {
	c    C
	req  *httpcore.Request
	body []byte
	p    *httpcore.Plan
	// retried is set once the request went to a process that turned out
	// dead before reading it.
	retried bool
}

// NewLoop returns the face for the programs in opts.Dir on loops of
// type L: cgi.NewLoop[*evloop.Loop](opts) for an epoll loop.
func NewLoop[L Host[C], C any](opts Options) *Loop[L, C] {
	opts = opts.withDefaults()
	return &Loop[L, C]{opts: opts, progs: programs{dir: opts.Dir}, pools: map[string]*lpool[L, C]{}}
}

// Counts returns the process counters; safe from any goroutine.
func (m *Loop[L, C]) Counts() Counts {
	return Counts{Spawned: m.spawned.Load(), Died: m.died.Load(), TimedOut: m.timedOut.Load(),
		Requests: m.requests.Load(), SharedResponses: m.shared.Load(), ReadBuffers: m.buffers.Load()}
}

// ServeCGI starts req on a process of program name (evloop.CGI,
// uringloop.CGI).
func (m *Loop[L, C]) ServeCGI(l L, c C, name []byte, req *httpcore.Request, body []byte, p *httpcore.Plan) bool {
	m.l = l
	path, ok := m.progs.path(name)
	if !ok {
		l.Core().RespondError(404, req, p)
		return true
	}
	m.requests.Add(1)
	lp := m.pools[path]
	if lp == nil {
		lp = &lpool[L, C]{path: path}
		m.pools[path] = lp
	}
	w := waiter[C]{c: c, req: req, body: body, p: p}
	if len(lp.waiting) > 0 { // first come, first served
		lp.waiting = append(lp.waiting, w)
		return false
	}
	pr, err := m.pick(lp)
	switch {
	case err != nil:
		l.Core().RespondError(502, req, p)
		return true
	case pr == nil:
		lp.waiting = append(lp.waiting, w)
	default:
		m.start(pr, w)
	}
	return false
}

// pick returns the process that takes lp's next request: an idle one, a
// new one while lp has fewer than Procs, else the one holding the fewest
// requests if it has room for one more; nil when none has.
func (m *Loop[L, C]) pick(lp *lpool[L, C]) (*lproc[L, C], error) {
	var least *lproc[L, C]
	for _, pr := range lp.all {
		if pr.holds() == 0 {
			return pr, nil
		}
		if least == nil || pr.holds() < least.holds() {
			least = pr
		}
	}
	if len(lp.all) < m.opts.Procs {
		return m.spawn(lp)
	}
	if least != nil && least.holds() < m.opts.Depth {
		return least, nil
	}
	return nil, nil
}

// spawn starts a process of lp and registers its pipes in the loop.
func (m *Loop[L, C]) spawn(lp *lpool[L, C]) (*lproc[L, C], error) {
	poolSize := 0
	if m.opts.SharedMemory {
		poolSize = m.opts.PoolBytes
	}
	p, err := spawn(lp.path, m.opts.Root, poolSize)
	if err != nil {
		return nil, err
	}
	m.spawned.Add(1)
	pr := &lproc[L, C]{proc: p, m: m, pool: lp}
	if err := m.l.AddFd(p.rfd, pipeIn, pr.readable); err != nil {
		p.kill()
		p.closePool()
		return nil, err
	}
	if err := m.l.AddFd(p.wfd, pipeOutET, pr.writable); err != nil {
		m.l.RemoveFd(p.rfd)
		p.kill()
		p.closePool()
		return nil, err
	}
	lp.all = append(lp.all, pr)
	return pr, nil
}

// start queues w's request for pr; it leaves at the end of the round.
func (m *Loop[L, C]) start(pr *lproc[L, C], w waiter[C]) {
	m.nextID++
	if pr.holds() == 0 {
		pr.deadline = time.Now().Add(m.opts.Timeout)
	}
	m.busy++
	fillRequest(&m.creq, w.req, w.body)
	m.creq.ID = m.nextID
	pr.wbuf = cgiproto.AppendRequest(pr.wbuf, &m.creq)
	pr.push(held[C]{id: m.nextID, w: w, end: len(pr.wbuf)})
	m.creq = cgiproto.Request{Headers: m.creq.Headers[:0]}
	m.opts.Stats.UserCopyBytes.Add(uint64(len(w.body)))
	m.markDirty(pr)
	m.armSweep()
}

// pump gives waiting requests of lp to processes with room.
func (m *Loop[L, C]) pump(lp *lpool[L, C]) {
	for len(lp.waiting) > 0 {
		pr, err := m.pick(lp)
		if err != nil {
			m.finish(lp.popWaiter(), 502)
			continue
		}
		if pr == nil {
			return
		}
		m.start(pr, lp.popWaiter())
	}
}

func (lp *lpool[L, C]) popWaiter() waiter[C] {
	w := lp.waiting[0]
	lp.waiting[0] = waiter[C]{}
	lp.waiting = lp.waiting[1:]
	if len(lp.waiting) == 0 {
		lp.waiting = lp.waiting[:0:0]
	}
	return w
}

// markDirty schedules pr's frames to be written at the end of the round:
// the loop runs its due timers after the events of a round, and a timer
// due now makes its next wait return at once.
func (m *Loop[L, C]) markDirty(pr *lproc[L, C]) {
	if pr.dirty || pr.dead {
		return
	}
	pr.dirty = true
	m.dirty = append(m.dirty, pr)
	if !m.flushing {
		m.flushing = true
		m.l.After(0, m.flushDirty)
	}
}

// flushDirty writes the frames queued during the round, one write per
// process.
func (m *Loop[L, C]) flushDirty() {
	m.flushing = false
	// A failed write kills a process, which answers its requests, which
	// may start others: they go to a fresh list and a later write.
	dirty := m.dirty
	m.dirty, m.writing = m.writing[:0], nil
	for i, pr := range dirty {
		dirty[i] = nil
		pr.dirty = false
		if pr.dead {
			continue
		}
		if err := pr.flush(); err != nil {
			pr.die(502)
		}
	}
	m.writing = dirty[:0]
}

// finish answers w with an error status and completes it.
func (m *Loop[L, C]) finish(w waiter[C], status int) {
	m.l.Core().RespondError(status, w.req, w.p)
	m.l.Complete(w.c)
}

// armSweep schedules the timeout sweep while any process is busy.
func (m *Loop[L, C]) armSweep() {
	if m.sweeping || m.busy == 0 {
		return
	}
	m.sweeping = true
	m.l.After(max(min(m.opts.Timeout/4, 100*time.Millisecond), time.Millisecond), m.sweep)
}

// sweep kills the processes whose current request is past its deadline:
// 504 for the requests they held.
func (m *Loop[L, C]) sweep() {
	m.sweeping = false
	now := time.Now()
	for _, lp := range m.pools {
		for _, pr := range append([]*lproc[L, C](nil), lp.all...) {
			if pr.holds() > 0 && now.After(pr.deadline) {
				m.timedOut.Add(1)
				pr.die(504)
			}
		}
	}
	m.armSweep()
}

// Close kills every process. Call it once the loop has stopped.
func (m *Loop[L, C]) Close() {
	for _, lp := range m.pools {
		for _, pr := range lp.all {
			pr.dead = true
			pr.kill()
			pr.closePool()
			<-pr.done
		}
		lp.all, lp.waiting = nil, nil
	}
}
