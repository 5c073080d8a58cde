// Package uringloop is the single-threaded loop of the flashbench uring
// architecture: one OS thread whose socket I/O goes through one io_uring
// (servers/internal/uring), with no helper processes and no blocking
// system call. It drives httpconn.Conn exactly as evloop does (the same
// parsing, plans, keep-alive, pipelining, error responses, timeouts and
// counters); only the way it waits and moves bytes differs.
//
// Where evloop waits for readiness and then calls read or writev, this
// loop hands the operations themselves to the kernel and waits for their
// completions:
//
//   - one multishot accept on the listener, re-armed when a completion
//     comes without CQEFMore (an error, a cancel);
//   - one multishot recv per connection into a provided-buffer ring: the
//     kernel picks a buffer when data arrives, the loop copies it into
//     the connection's request buffer when the connection asks for
//     input, and hands the buffer back at once;
//   - one sendmsg of the queued iovecs (header and mapped or cached body
//     together) at a time per connection, resumed after a partial send;
//   - closes, and cancels of what is still armed, through the ring;
//   - one multishot poll per descriptor registered with AddFd (a CGI
//     program's pipes, for a CGI face), re-armed likewise.
//
// Completions carry a connection index (or a file operation's or a
// registered descriptor's slot) and the kind of operation in their user
// data. A connection is recycled only once none of its operations can
// complete any more, so a late completion never reaches the next
// connection of the same slot.
//
// Timeouts live in four intrusive lists (header, idle, write, linger)
// with evloop's semantics; the loop waits in io_uring_enter until the
// nearest deadline (SubmitAndWaitTimeout). Shutdown wakes the ring
// through an eventfd polled on the ring (a multishot poll).
package uringloop

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/deadline"
	"flashbench/servers/internal/httpconn"
	"flashbench/servers/internal/listen"
	"flashbench/servers/internal/stats"
	"flashbench/servers/internal/uring"
)

// Ring sizes. The SQ bounds the operations one enter submits (the loop
// submits early when it fills); the CQ is larger, since every connection
// may have a recv and a send complete in one turn, and completions that
// do not fit wait in the kernel anyway (FeatNodrop).
const (
	sqEntries = 512
	cqEntries = 8192
)

// Provided buffers: each recv completion fills one. A connection's
// request buffer starts at httpconn.DefaultReadBufferSize, the same size,
// so that one completion is one copy into it.
const (
	bufGroup   = 1
	bufEntries = 1024
	bufSize    = 4096
)

// maxHeld bounds the received buffers a connection holds while it is not
// reading (sending, or waiting for a handler): past it the loop cancels
// its recv, the socket's receive queue fills and the client's sends stop,
// as they would on an epoll loop that does not read. It is re-armed when
// the connection asks for input again.
const maxHeld = 4

// Ops returns the io_uring operations the loop uses: the start-up probe
// requires them (uring.Ring.Require).
func Ops() []uring.Op {
	return []uring.Op{uring.OpAccept, uring.OpRecv, uring.OpSendmsg, uring.OpClose,
		uring.OpAsyncCancel, uring.OpPollAdd, uring.OpRead, uring.OpStatx}
}

// setupFlags: one thread submits, completion work runs only when it
// enters (DeferTaskrun), and the ring is enabled by Run on the loop's
// thread, which becomes its only issuer.
const setupFlags = uring.SetupSingleIssuer | uring.SetupDeferTaskrun | uring.SetupTaskrunFlag |
	uring.SetupSubmitAll | uring.SetupRDisabled

// Handler plans responses for a Loop in place of Core.Respond.
type Handler interface {
	// Serve plans the response to req on c. It returns true when p is
	// ready now; false when the handler will finish later (on the loop
	// thread) and call Loop.Complete(c). While a request is pending the
	// loop neither reads nor parses c, so req's slices stay valid until
	// Complete.
	Serve(c *Conn, req *httpcore.Request, p *httpcore.Plan) bool
}

// Loop is one io_uring loop. Its methods other than Shutdown must be
// called on the loop's thread (from Run, a Handler, or a callback).
type Loop struct {
	ring    *uring.Ring
	bufs    *uring.BufRing
	lfd     int
	wakefd  int
	acc     *listen.Acceptor
	core    *httpcore.Core
	handler Handler
	cgi     CGI // nil: no CGI
	srv     *httpconn.Server
	opts    httpconn.ServeOptions
	st      *stats.Counters
	leases  *leaseWatch // nil unless the core leases its files

	conns    []*Conn // by index, the index in the user data; 0 is the loop's own
	free     []*Conn
	nconns   int
	ops      int // operations in flight that will complete (armed multishots count once)
	starved  []*Conn
	fileOps  []*fileOp // by slot, the slot in the user data; 0 unused
	counts   ringCounters
	zcMin    int // sends of at least zcMin bytes are zero-copy; 0: none
	fileFree []uint32
	polls    []*fdPoll // registered descriptors (AddFd) by slot, the slot in the user data; 0 unused
	pollFree []uint32
	pollOf   []uint32 // by descriptor, its slot while registered
	freed    bool     // buffers were added to the ring since the last publish
	cqes     [256]uring.CQE
	now      int64
	err      error // a failed submit: Run returns it
	spare    uring.SQE

	lists  deadline.Lists[*Conn] // the timeout lists, listHeader to listLinger
	timers deadline.Timers

	accepting    bool  // a multishot accept is armed
	acceptCancel bool  // and a cancel of it is queued
	acceptPause  bool  // backing off after a Resource failure
	acceptOver   bool  // the listener is shut: accepting is over
	backlog      []int // accepted by the kernel, waiting for a MaxConns slot
	waking       bool  // the eventfd poll is armed

	stopReq   atomic.Int64 // shutdown deadline in nanoseconds from the request, +1
	leaseReq  atomic.Bool  // SIGIO came: some lease is breaking
	draining  bool
	hardStop  int64
	wakeBuf   [8]byte
	startTime time.Time
}

// New builds a Loop serving the listening socket lfd with core. h plans
// the responses; nil means core.Respond inline. A CGI face in opts must
// be a uringloop.CGI. It sets the ring up and probes the kernel: the
// error says in one line when io_uring is unavailable
// (uring.ErrUnavailable) or an operation the loop needs is missing. The
// loop does not close lfd.
func New(lfd int, core *httpcore.Core, h Handler, opts httpconn.ServeOptions) (*Loop, error) {
	switch {
	case core == nil:
		return nil, errors.New("uringloop: new: nil core")
	case core.Config().SendFile:
		return nil, errors.New("uringloop: new: file bodies planned as file ranges (Config.SendFile) are not sent by this loop")
	}
	var face CGI
	if opts.CGI != nil {
		var ok bool
		if face, ok = opts.CGI.(CGI); !ok {
			return nil, fmt.Errorf("uringloop: new: the CGI face %T does not serve an io_uring loop", opts.CGI)
		}
	}
	opts = opts.WithDefaults()
	if opts.Stats == nil {
		opts.Stats = stats.New()
	}
	ring, err := Probe()
	if err != nil {
		return nil, err
	}
	l := &Loop{ring: ring, lfd: lfd, wakefd: -1, core: core, handler: h, cgi: face, opts: opts, lists: deadline.NewLists[*Conn](numLists), st: opts.Stats,
		conns: []*Conn{nil}, startTime: time.Now()}
	if err := l.setup(); err != nil {
		l.closeFds()
		return nil, err
	}
	l.srv = httpconn.New(core, l.opts, httpconn.MaxBatch)
	if core.Config().Lease {
		l.leases = newLeaseWatch(l)
	}
	return l, nil
}

// Probe sets up a ring as the loop does and checks that the kernel has
// every operation the loop uses; a server calls it (through New, or
// alone) to refuse to start in one line where io_uring cannot serve.
// The caller closes the ring it returns.
func Probe() (*uring.Ring, error) {
	ring, err := uring.New(uring.Options{Entries: sqEntries, CQEntries: cqEntries, Flags: setupFlags})
	if err != nil {
		return nil, err
	}
	if err := ring.Require(Ops()...); err != nil {
		ring.Close()
		return nil, err
	}
	return ring, nil
}

// setup registers the buffer ring and makes the wake-up eventfd and the
// acceptor.
func (l *Loop) setup() error {
	var err error
	if l.bufs, err = l.ring.NewBufRing(bufGroup, bufEntries, bufSize); err != nil {
		return err
	}
	if l.acc, err = listen.NewAcceptor(l.lfd, listen.Options{MaxConns: l.opts.MaxConns, Counters: listen.Counting(l.st)}); err != nil {
		return fmt.Errorf("uringloop: %w", err)
	}
	// Nagle off on the listener, inherited by every accepted socket, as
	// evloop does: small pipelined responses must not wait for ACKs.
	unix.SetsockoptInt(l.lfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if l.wakefd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return fmt.Errorf("uringloop: new: %w", os.NewSyscallError("eventfd", err))
	}
	return nil
}

func (l *Loop) closeFds() {
	l.ring.Close()
	if l.wakefd >= 0 {
		unix.Close(l.wakefd)
	}
}

// clock returns monotonic nanoseconds since the loop was made.
func (l *Loop) clock() int64 { return int64(time.Since(l.startTime)) }

// Now returns the loop's clock: monotonic nanoseconds since the loop was
// made, refreshed every turn.
func (l *Loop) Now() int64 { return l.now }

// Core returns the core the loop serves with.
func (l *Loop) Core() *httpcore.Core { return l.core }

// Stats returns the loop's counters.
func (l *Loop) Stats() *stats.Counters { return l.st }

// Run runs the loop on the calling goroutine, locked to its OS thread
// (the ring's only issuer), until Shutdown has finished: every
// connection closed, or its deadline passed. It closes the ring on
// return.
func (l *Loop) Run() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := l.ring.Enable(); err != nil {
		if l.leases != nil {
			l.leases.close()
		}
		l.closeFds()
		return err
	}
	defer l.closeAll()
	l.now = l.clock()
	l.armWake()
	l.armAccept()
	for {
		if l.draining && (l.nconns == 0 || l.now >= l.hardStop) {
			return nil
		}
		if err := l.turn(); err != nil {
			return err
		}
	}
}

// turn submits what is prepared, waits for completions or the nearest
// deadline, and handles what came: completions, then due timeouts and
// timers.
func (l *Loop) turn() error {
	if err := l.enter(); err != nil {
		return err
	}
	l.now = l.clock()
	l.reap()
	l.expire()
	l.rearmStarved()
	return l.err
}

// Shutdown asks the loop to stop accepting (the listening socket is shut
// down, so new connections are refused), finish the requests in flight,
// close idle connections, and make Run return within deadline. It is
// safe from any goroutine and returns at once.
func (l *Loop) Shutdown(deadline time.Duration) {
	l.stopReq.CompareAndSwap(0, int64(max(deadline, 0))+1)
	l.poke()
}

// poke wakes the loop from any goroutine.
func (l *Loop) poke() {
	one := [8]byte{1}
	unix.Write(l.wakefd, one[:])
}

// Complete tells the loop that the plan pending on c (Handler.Serve
// returned false) is ready: the loop sends it and goes on with c. Call it
// on the loop thread only, exactly once per pending request.
func (l *Loop) Complete(c *Conn) {
	if !c.hc.Held() {
		return
	}
	if c.closed {
		c.hc.ReleaseHeld()
		l.release(c)
		return
	}
	c.hc.Complete(l.now)
	l.process(c)
}

// SetSendZCMin makes sends of at least n bytes zero-copy sendmsgs
// (IORING_OP_SENDMSG_ZC): the socket references the pages of the
// mapped file or shared pool instead of copying them, and the plans are
// released once the kernel's notification says it no longer does. 0,
// the default, copies every send. It fails where the kernel lacks the
// operation. Call it before Run.
func (l *Loop) SetSendZCMin(n int) error {
	if n > 0 {
		if err := l.ring.Require(uring.OpSendmsgZC); err != nil {
			return err
		}
	}
	l.zcMin = max(n, 0)
	return nil
}

// SendsFiles reports that the loop sends no file ranges: every body
// leaves by sendmsg from memory.
func (l *Loop) SendsFiles() bool { return false }

// After runs fn on the loop thread once d has passed. Call it on the loop
// thread only.
func (l *Loop) After(d time.Duration, fn func()) {
	l.timers.After(l.clock()+int64(max(d, 0)), fn)
}
