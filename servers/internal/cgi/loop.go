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
type Loop struct {
	opts  Options
	progs programs
	l     *evloop.Loop
	pools map[string]*lpool

	nextID   uint64
	busy     int  // processes with a request
	sweeping bool // a timeout sweep is scheduled
	creq     cgiproto.Request

	spawned, died, timedOut, requests, shared atomic.Uint64
}

// lpool is one program's processes.
type lpool struct {
	path    string
	all     []*lproc
	idle    []*lproc
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
	for attempt := 0; ; attempt++ {
		pr := lp.takeIdle()
		if pr == nil && len(lp.all) < m.opts.Procs {
			var err error
			if pr, err = m.spawn(lp); err != nil {
				l.Core().RespondError(502, req, p)
				return true
			}
		}
		if pr == nil {
			lp.waiting = append(lp.waiting, w)
			return false
		}
		if m.start(pr, w) == nil {
			return false
		}
		// The process died before it could read the request (its death
		// not yet seen): the request never reached it, so another
		// process may take it.
		pr.unstart()
		pr.discard()
		m.l.After(0, func() { m.pump(lp) })
		if attempt > 0 {
			l.Core().RespondError(502, req, p)
			return true
		}
	}
}

func (lp *lpool) takeIdle() *lproc {
	n := len(lp.idle)
	if n == 0 {
		return nil
	}
	pr := lp.idle[n-1]
	lp.idle = lp.idle[:n-1]
	return pr
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
	pr := &lproc{proc: p, m: m, pool: lp, rbuf: make([]byte, 64<<10)}
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

// start sends w's request to pr.
func (m *Loop) start(pr *lproc, w waiter) error {
	m.nextID++
	pr.id, pr.cur, pr.busy = m.nextID, w, true
	pr.deadline = time.Now().Add(m.opts.Timeout)
	m.busy++
	fillRequest(&m.creq, w.req, w.body)
	m.creq.ID = pr.id
	pr.wbuf = cgiproto.AppendRequest(pr.wbuf, &m.creq)
	m.creq = cgiproto.Request{Headers: m.creq.Headers[:0]}
	m.opts.Stats.UserCopyBytes.Add(uint64(len(w.body)))
	m.armSweep()
	return pr.flush()
}

// pump gives waiting requests of lp to idle or new processes.
func (m *Loop) pump(lp *lpool) {
	for len(lp.waiting) > 0 {
		pr := lp.takeIdle()
		if pr == nil && len(lp.all) < m.opts.Procs {
			var err error
			if pr, err = m.spawn(lp); err != nil {
				w := lp.popWaiter()
				m.finish(w, 502)
				continue
			}
		}
		if pr == nil {
			return
		}
		w := lp.popWaiter()
		if m.start(pr, w) != nil {
			pr.unstart()
			pr.discard()
			if w.retried {
				m.finish(w, 502)
			} else { // never delivered: give it one more process
				w.retried = true
				lp.waiting = append([]waiter{w}, lp.waiting...)
			}
		}
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

// sweep kills the processes whose request is past its deadline: 504.
func (m *Loop) sweep() {
	m.sweeping = false
	now := time.Now()
	for _, lp := range m.pools {
		for _, pr := range append([]*lproc(nil), lp.all...) {
			if pr.busy && now.After(pr.deadline) {
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
		lp.all, lp.idle, lp.waiting = nil, nil, nil
	}
}
