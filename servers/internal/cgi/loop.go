package cgi

import (
	"sync/atomic"
	"time"

	"flashbench/cgi-apps/cgiproto"
	"flashbench/servers/httpcore"
	"flashbench/servers/internal/evloop"
)

// Loop is the event-loop face (evloop.CGI): the program pipes are in the
// loop's epoll set, a request leaves ServeCGI pending, and the loop
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
type Loop struct {
	opts  Options
	progs programs
	l     *evloop.Loop
	pools map[string]*lpool

	nextID   uint64
	busy     int  // requests held by processes
	sweeping bool // a timeout sweep is scheduled
	creq     cgiproto.Request

	dirty    []*lproc // processes with frames to write at the end of the round
	flushing bool     // the end-of-round write is scheduled
	writing  []*lproc // the dirty list being written (kept for reuse)
	spare    []*rchunk

	spawned, died, timedOut, requests, shared atomic.Uint64
}

// lpool is one program's processes.
type lpool struct {
	path    string
	all     []*lproc
	waiting []waiter // FIFO of requests no process could take yet
}

// waiter is a pending request.
type waiter struct {
	c    *evloop.Conn
	req  *httpcore.Request
	body []byte
	p    *httpcore.Plan
	// retried is set once the request went to a process that turned out
	// dead before reading it.
	retried bool
}

// NewLoop returns the event-loop face for the programs in opts.Dir.
func NewLoop(opts Options) *Loop {
	opts = opts.withDefaults()
	return &Loop{opts: opts, progs: programs{dir: opts.Dir}, pools: map[string]*lpool{}}
}

// Counts returns the process counters; safe from any goroutine.
func (m *Loop) Counts() Counts {
	return Counts{Spawned: m.spawned.Load(), Died: m.died.Load(), TimedOut: m.timedOut.Load(),
		Requests: m.requests.Load(), SharedResponses: m.shared.Load()}
}

// ServeCGI starts req on a process of program name (evloop.CGI).
func (m *Loop) ServeCGI(l *evloop.Loop, c *evloop.Conn, name []byte, req *httpcore.Request, body []byte, p *httpcore.Plan) bool {
	m.l = l
	path, ok := m.progs.path(name)
	if !ok {
		l.Core().RespondError(404, req, p)
		return true
	}
	m.requests.Add(1)
	lp := m.pools[path]
	if lp == nil {
		lp = &lpool{path: path}
		m.pools[path] = lp
	}
	w := waiter{c: c, req: req, body: body, p: p}
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
func (m *Loop) pick(lp *lpool) (*lproc, error) {
	var least *lproc
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
func (m *Loop) spawn(lp *lpool) (*lproc, error) {
	poolSize := 0
	if m.opts.SharedMemory {
		poolSize = m.opts.PoolBytes
	}
	p, err := spawn(lp.path, m.opts.Root, poolSize)
	if err != nil {
		return nil, err
	}
	m.spawned.Add(1)
	pr := &lproc{proc: p, m: m, pool: lp}
	if err := m.l.AddFd(p.rfd, evloopIn, pr.readable); err != nil {
		p.kill()
		p.closePool()
		return nil, err
	}
	if err := m.l.AddFd(p.wfd, evloopOutET, pr.writable); err != nil {
		m.l.RemoveFd(p.rfd)
		p.kill()
		p.closePool()
		return nil, err
	}
	lp.all = append(lp.all, pr)
	return pr, nil
}

// start queues w's request for pr; it leaves at the end of the round.
func (m *Loop) start(pr *lproc, w waiter) {
	m.nextID++
	if pr.holds() == 0 {
		pr.deadline = time.Now().Add(m.opts.Timeout)
	}
	m.busy++
	fillRequest(&m.creq, w.req, w.body)
	m.creq.ID = m.nextID
	pr.wbuf = cgiproto.AppendRequest(pr.wbuf, &m.creq)
	pr.push(held{id: m.nextID, w: w, end: len(pr.wbuf)})
	m.creq = cgiproto.Request{Headers: m.creq.Headers[:0]}
	m.opts.Stats.UserCopyBytes.Add(uint64(len(w.body)))
	m.markDirty(pr)
	m.armSweep()
}

// pump gives waiting requests of lp to processes with room.
func (m *Loop) pump(lp *lpool) {
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

func (lp *lpool) popWaiter() waiter {
	w := lp.waiting[0]
	lp.waiting[0] = waiter{}
	lp.waiting = lp.waiting[1:]
	if len(lp.waiting) == 0 {
		lp.waiting = lp.waiting[:0:0]
	}
	return w
}

// markDirty schedules pr's frames to be written at the end of the round:
// the loop runs its due timers after the events of a round, and a timer
// due now makes its next wait return at once.
func (m *Loop) markDirty(pr *lproc) {
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
func (m *Loop) flushDirty() {
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
func (m *Loop) finish(w waiter, status int) {
	m.l.Core().RespondError(status, w.req, w.p)
	m.l.Complete(w.c)
}

// armSweep schedules the timeout sweep while any process is busy.
func (m *Loop) armSweep() {
	if m.sweeping || m.busy == 0 {
		return
	}
	m.sweeping = true
	m.l.After(max(min(m.opts.Timeout/4, 100*time.Millisecond), time.Millisecond), m.sweep)
}

// sweep kills the processes whose current request is past its deadline:
// 504 for the requests they held.
func (m *Loop) sweep() {
	m.sweeping = false
	now := time.Now()
	for _, lp := range m.pools {
		for _, pr := range append([]*lproc(nil), lp.all...) {
			if pr.holds() > 0 && now.After(pr.deadline) {
				m.timedOut.Add(1)
				pr.die(504)
			}
		}
	}
	m.armSweep()
}

// Close kills every process. Call it once the loop has stopped.
func (m *Loop) Close() {
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
