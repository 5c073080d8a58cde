// Package evloop is the single-threaded event loop of the flashbench SPED
// and AMPED architectures (the Zeus and thttpd model of the Flash paper):
// one OS thread, raw epoll, non-blocking sockets, no goroutine per
// connection. It accepts, reads, parses with httpcore, answers, and sends
// every Plan with writev (header and mapped chunks together) or
// sendmsg(MSG_MORE) plus sendfile, resuming partial writes when the socket
// becomes writable again, so that one slow client never stalls the others.
//
// Connections are registered once, edge-triggered, for both input and
// output (EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET): no epoll_ctl per request,
// and a wake-up is only an edge, so the loop reads until a short read or
// EAGAIN and remembers whether a socket may still hold data while it is
// busy writing or waiting for a handler. The listener is level-triggered,
// so that accepting a bounded batch per round is fair to established
// connections and pausing it (EMFILE, MaxConns, shutdown) is one
// epoll_ctl.
//
// Timeouts live in four intrusive lists (header, idle, write, linger),
// each kept in deadline order; the loop checks their heads after every
// epoll_wait and sleeps until the nearest one.
//
// With a core that leases the files it opens (httpcore.Config.Lease, the
// Flash-Lite data path), the loop also keeps sendfile'd pages immutable
// while a socket may reference them: on a lease break it stops sending
// from the file and gives the lease up only once the data in flight is
// drained (lease.go).
package evloop

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
)

// Handler plans responses for a Loop in place of Core.Respond.
type Handler interface {
	// Serve plans the response to req on c. It returns true when p is
	// ready now; false when the handler will finish later (on the loop
	// thread) and call Loop.Complete(c). While a request is pending the
	// loop neither reads nor parses c, so req's slices stay valid until
	// Complete.
	Serve(c *Conn, req *httpcore.Request, p *httpcore.Plan) bool
}

// fdEntry is what a registered descriptor dispatches to.
type fdEntry struct {
	conn *Conn
	fn   func(events uint32)
}

// Loop is one event loop. Its methods other than Shutdown must be called
// on the loop's thread (from Run, a Handler, or a callback).
type Loop struct {
	epfd, lfd, wakefd int
	acc               *listen.Acceptor
	core              *httpcore.Core
	handler           Handler
	cgi               CGI // nil: no CGI
	srv               *httpconn.Server
	opts              httpconn.ServeOptions
	st                *stats.Counters

	leases *leaseWatch // nil unless the core leases its files

	fds    []fdEntry // by descriptor
	events [256]unix.EpollEvent
	now    int64 // monotonic nanoseconds, refreshed every round

	free   []*Conn
	nconns int

	lists  deadline.Lists[*Conn] // the timeout lists, listHeader to listLinger
	timers deadline.Timers

	listening   bool // the listener is in the epoll set
	acceptPause bool // paused after EMFILE/ENFILE until a timer fires

	stopReq   atomic.Int64 // shutdown deadline in nanoseconds from the request, +1
	draining  bool
	hardStop  int64 // monotonic deadline of the drain
	wakeBuf   [8]byte
	startTime time.Time
}

// New builds a Loop serving the non-blocking listening socket lfd with
// core. h plans the responses; nil means core.Respond inline. A CGI face
// in opts must be an evloop.CGI. The loop does not close lfd.
func New(lfd int, core *httpcore.Core, h Handler, opts httpconn.ServeOptions) (*Loop, error) {
	if core == nil {
		return nil, errors.New("evloop: new: nil core")
	}
	var face CGI
	if opts.CGI != nil {
		var ok bool
		if face, ok = opts.CGI.(CGI); !ok {
			return nil, fmt.Errorf("evloop: new: the CGI face %T does not serve an event loop", opts.CGI)
		}
	}
	l, err := newLoop(lfd, opts)
	if err != nil {
		return nil, err
	}
	l.core, l.handler, l.cgi = core, h, face
	l.srv = httpconn.New(core, l.opts, httpconn.MaxBatch)
	if core.Config().Lease {
		if l.leases, err = newLeaseWatch(l); err != nil {
			l.closeFds()
			return nil, fmt.Errorf("evloop: new: %w", err)
		}
	}
	return l, nil
}

// NewRaw builds a Loop that answers with fn alone: no parser, no core,
// no files, no CGI. A request longer than maxRequest bytes closes its
// connection.
func NewRaw(lfd int, fn httpconn.RawFunc, maxRequest int, opts httpconn.ServeOptions) (*Loop, error) {
	if fn == nil {
		return nil, errors.New("evloop: new: nil raw function")
	}
	opts.CGI = nil
	l, err := newLoop(lfd, opts)
	if err != nil {
		return nil, err
	}
	l.srv = httpconn.NewRaw(fn, maxRequest, l.opts, httpconn.MaxBatch)
	return l, nil
}

// newLoop creates the epoll set with the wake-up eventfd and the listener.
func newLoop(lfd int, opts httpconn.ServeOptions) (*Loop, error) {
	opts = opts.WithDefaults()
	if opts.Stats == nil {
		opts.Stats = stats.New()
	}
	acc, err := listen.NewAcceptor(lfd, listen.Options{MaxConns: opts.MaxConns, Counters: listen.Counting(opts.Stats)})
	if err != nil {
		return nil, fmt.Errorf("evloop: %w", err)
	}
	setNoDelay(lfd)
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("evloop: new: %w", os.NewSyscallError("epoll_create1", err))
	}
	wfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("evloop: new: %w", os.NewSyscallError("eventfd", err))
	}
	l := &Loop{epfd: epfd, lfd: lfd, wakefd: wfd, acc: acc, opts: opts, st: opts.Stats, startTime: time.Now()}
	l.now = l.clock()
	l.lists = deadline.NewLists[*Conn](numLists)
	if err := l.AddFd(wfd, unix.EPOLLIN, l.wake); err != nil {
		l.closeFds()
		return nil, err
	}
	if err := l.AddFd(lfd, unix.EPOLLIN, l.acceptReady); err != nil {
		l.closeFds()
		return nil, err
	}
	l.listening = true
	return l, nil
}

func (l *Loop) closeFds() {
	unix.Close(l.wakefd)
	unix.Close(l.epfd)
}

// clock returns monotonic nanoseconds since the loop was made.
func (l *Loop) clock() int64 { return int64(time.Since(l.startTime)) }

// Now returns the loop's clock: monotonic nanoseconds since the loop was
// made, refreshed every round.
func (l *Loop) Now() int64 { return l.now }

// Core returns the core the loop serves with (nil for a raw loop).
func (l *Loop) Core() *httpcore.Core { return l.core }

// Stats returns the loop's counters.
func (l *Loop) Stats() *stats.Counters { return l.st }

// Run runs the loop on the calling goroutine, locked to its OS thread,
// until Shutdown has finished (every connection closed, or its deadline
// passed). It closes the epoll set on return.
func (l *Loop) Run() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer l.closeAll()
	for {
		if l.draining && (l.nconns == 0 || l.now >= l.hardStop) {
			return nil
		}
		n, err := l.wait()
		l.now = l.clock()
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return fmt.Errorf("evloop: %w", os.NewSyscallError("epoll_wait", err))
		}
		for i := range n {
			ev := &l.events[i]
			fd := int(ev.Fd)
			if fd >= len(l.fds) {
				continue
			}
			e := l.fds[fd]
			switch {
			case e.conn != nil:
				l.connEvent(e.conn, ev.Events)
			case e.fn != nil:
				e.fn(ev.Events)
			}
		}
		l.expire()
	}
}

// Shutdown asks the loop to stop accepting (the listening socket is shut
// down, so new connections are refused), finish the requests in flight,
// close idle connections, and make Run return within deadline. It is
// safe from any goroutine and returns at once.
func (l *Loop) Shutdown(deadline time.Duration) {
	l.stopReq.CompareAndSwap(0, int64(max(deadline, 0))+1)
	var one = [8]byte{1}
	unix.Write(l.wakefd, one[:])
}

// wake handles the eventfd: a Shutdown request.
func (l *Loop) wake(uint32) {
	unix.Read(l.wakefd, l.wakeBuf[:])
	d := l.stopReq.Load()
	if d == 0 || l.draining {
		return
	}
	l.draining = true
	l.hardStop = l.now + d - 1
	l.pauseListener()
	// Out of the epoll set the socket would still complete handshakes
	// into its backlog; shut down, it refuses new connections at once.
	unix.Shutdown(l.lfd, unix.SHUT_RD)
	// Connections waiting for a request are idle: close them now.
	for _, k := range []int{listIdle, listHeader} {
		for e := l.lists.Head(k); e != nil; {
			next := e.Next()
			if c := e.Owner; c.hc.Idle() && !c.readable {
				l.close(c)
			}
			e = next
		}
	}
}

// closeAll closes every connection still open and the loop's descriptors.
func (l *Loop) closeAll() {
	for fd, e := range l.fds {
		if e.conn != nil && e.conn.fd == fd {
			l.close(e.conn)
		}
	}
	if l.leases != nil {
		l.leases.close()
	}
	l.closeFds()
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
		l.recycle(c)
		return
	}
	c.hc.Complete(l.now)
	l.process(c)
}

// SendsFiles reports that the loop sends file ranges, with sendfile.
func (l *Loop) SendsFiles() bool { return true }

// AddFd registers another descriptor (a helper's pipe) in the loop's
// epoll set; fn runs on the loop thread with the ready events.
func (l *Loop) AddFd(fd int, events uint32, fn func(events uint32)) error {
	if fd < 0 {
		return fmt.Errorf("evloop: add fd %d: bad descriptor", fd)
	}
	if err := l.ctl(unix.EPOLL_CTL_ADD, fd, events); err != nil {
		return err
	}
	l.setEntry(fd, fdEntry{fn: fn})
	return nil
}

// ModFd changes the events a descriptor added with AddFd waits for.
func (l *Loop) ModFd(fd int, events uint32) error {
	return l.ctl(unix.EPOLL_CTL_MOD, fd, events)
}

// RemoveFd removes a descriptor added with AddFd; it does not close it.
func (l *Loop) RemoveFd(fd int) error {
	err := l.ctl(unix.EPOLL_CTL_DEL, fd, 0)
	if fd >= 0 && fd < len(l.fds) {
		l.fds[fd] = fdEntry{}
	}
	return err
}

func (l *Loop) ctl(op, fd int, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, op, fd, &ev); err != nil {
		return fmt.Errorf("evloop: fd %d: %w", fd, os.NewSyscallError("epoll_ctl", err))
	}
	return nil
}

func (l *Loop) setEntry(fd int, e fdEntry) {
	if fd >= len(l.fds) {
		n := max(2*len(l.fds), fd+1, 1024)
		fds := make([]fdEntry, n)
		copy(fds, l.fds)
		l.fds = fds
	}
	l.fds[fd] = e
}

// After runs fn on the loop thread once d has passed. Call it on the loop
// thread only.
func (l *Loop) After(d time.Duration, fn func()) {
	l.timers.After(l.clock()+int64(max(d, 0)), fn)
}
