// Package connloop is the blocking HTTP connection loop that the forking,
// pre-forked and threaded flashbench architectures share. It serves one
// connection on a raw descriptor with plain blocking system calls (read,
// writev, sendfile), without net.Conn or the Go netpoller, so that each
// connection occupies one kernel thread exactly as in the MP and MT servers
// of the Flash paper. Everything between the bytes it reads and the
// buffers it writes is the shared connection layer's (httpconn); this
// package only blocks. Timeouts are socket options (SO_RCVTIMEO and
// SO_SNDTIMEO), the only way a blocking call can time out, except for the
// wait for a request of a loop that holds its processor (Options.HoldP),
// which keeps its deadline itself.
package connloop

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/httpconn"
)

// Options tunes a connection loop: the options every architecture serves
// with (a CGI face must be a connloop.CGI), and the blocking loop's own.
type Options struct {
	httpconn.ServeOptions
	// OnError, when set, receives the error of each connection that
	// ServeListener served and that ended in an error.
	OnError func(error)
	// Conns, when set, follows the connections (Track on the same core):
	// Conns.Stop ends them gracefully, and a read lease break stops the
	// responses sending from the file.
	Conns *Conns
	// HoldP waits for each request in a ppoll made without leaving the Go
	// scheduler (RawSyscall), with its deadline kept here, instead of a
	// read blocked under SO_RCVTIMEO. A blocking system call gives its
	// processor (P) up: the runtime's monitor hands it off after 20 µs and
	// the thread takes one back when the call returns, futex wake-ups and
	// monitor sleeps on every request of a keep-alive connection (strace:
	// 1.5 futex and 1.5 nanosleep per request in a prefork worker). Only
	// for a process whose one busy goroutine is this loop (a prefork
	// worker, a forking child): the waiting loop keeps the process's only
	// P, and other goroutines (signals, a graceful stop) run when the
	// runtime's 10 ms preemption signal interrupts the wait.
	HoldP bool
}

// conn is the state of one connection.
type conn struct {
	fd         int
	hc         httpconn.Conn
	core       *httpcore.Core
	cgi        CGI
	conns      *Conns
	rcvTimeout time.Duration // SO_RCVTIMEO in force; -1 before the first set
	drained    bool          // the last read was short: the socket held nothing more then
	holdP      bool          // Options.HoldP
	pfd        [1]unix.PollFd
	// sending is the leased file a mapped body is being written from, and
	// idle is set while the connection waits for a request: both for
	// Conns, which reads them from another goroutine.
	sending atomic.Pointer[httpcore.File]
	idle    atomic.Bool
}

// epoch is the origin of the monotonic clock the connection layer runs on.
var epoch = time.Now()

func now() int64 { return int64(time.Since(epoch)) }

// Serve serves one connection on fd until the client closes it, an error,
// a timeout, or a response that closes it. It does not close fd. A client
// that closes between requests, a timeout and a refused request are not
// errors; a client that vanishes mid-request and failed writes (EPIPE,
// ECONNRESET, EFAULT from a mapped file truncated under us) are.
func Serve(fd int, core *httpcore.Core, opts Options) error {
	c := &conn{fd: fd, core: core, conns: opts.Conns, rcvTimeout: -1, holdP: opts.HoldP}
	if opts.CGI != nil {
		var ok bool
		if c.cgi, ok = opts.CGI.(CGI); !ok {
			return fmt.Errorf("connloop: the CGI face %T does not serve a blocking loop", opts.CGI)
		}
	}
	// One response at a time: it is sent before the next request is read.
	srv := httpconn.New(core, opts.ServeOptions, 1)
	srv.Init(&c.hc)
	c.hc.Start(now())
	defer c.hc.Reset() // releases what an error left queued
	if err := setTimeout(fd, unix.SO_SNDTIMEO, srv.Options().WriteTimeout); err != nil {
		return err
	}
	// Small pipelined responses must not wait for ACKs; MSG_MORE still
	// coalesces a header with its sendfile body.
	err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if err != nil && !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.ENOPROTOOPT) {
		return fmt.Errorf("connloop: set TCP_NODELAY: %w", os.NewSyscallError("setsockopt", err))
	}
	if c.conns != nil {
		c.conns.add(c)
		defer c.conns.remove(c)
	}
	return c.serve()
}

// serve does what the connection layer asks, blocking, until the
// connection ends.
func (c *conn) serve() error {
	for {
		var done bool
		var err error
		switch c.hc.Next(now()) {
		case httpconn.StepRead:
			done, err = c.fill()
		case httpconn.StepRequest:
			c.respond()
		case httpconn.StepBody:
			err = c.readBody()
		case httpconn.StepSend:
			err = c.send()
		case httpconn.StepFinish:
			return c.finish()
		case httpconn.StepWait:
			return errors.New("connloop: a request was left pending") // a blocking face answers at once
		}
		if done || err != nil {
			return err
		}
	}
}

// respond answers the request just parsed.
func (c *conn) respond() {
	if name, ok := c.hc.CGIName(); ok {
		if c.hc.StartCGI(name, now()) {
			c.dispatchCGI()
		}
		return
	}
	c.core.Respond(c.hc.Request(), c.hc.Plan())
	c.hc.Queue(now())
}

// fill reads more input. done reports that the connection ended: the
// client closed or stayed silent between requests, or a shutdown
// (Conns.Stop) came first. A request header past its timeout is answered
// 408, and one too long 431.
func (c *conn) fill() (done bool, err error) {
	buf := c.hc.ReadBuffer()
	if buf == nil {
		c.hc.Fail(431)
		return false, nil
	}
	t := now()
	_, deadline := c.hc.ReadDeadline(t)
	if deadline <= t {
		return !c.hc.TimedOut(), nil
	}
	if !c.holdP {
		if err := c.setRcvTimeout(time.Duration(deadline - t)); err != nil {
			return true, err
		}
	}
	if cs := c.conns; cs != nil && c.hc.Idle() {
		c.idle.Store(true) // before looking at stopping, which Stop sets before looking at idle
		defer c.idle.Store(false)
		if cs.stopping.Load() {
			unix.Shutdown(c.fd, unix.SHUT_RD)
		}
	}
	var n int
	if c.holdP {
		n, err = c.readHolding(buf, deadline)
	} else {
		n, err = c.read(buf)
	}
	switch {
	case errors.Is(err, unix.EAGAIN):
		return !c.hc.TimedOut(), nil
	case err != nil:
		return true, fmt.Errorf("connloop: read request: %w", err)
	case n == 0 && c.hc.MidRequest():
		return true, fmt.Errorf("connloop: read request: %w", io.ErrUnexpectedEOF)
	case n == 0:
		return true, nil
	}
	c.drained = n < len(buf)
	c.hc.Received(n, now())
	return false, nil
}

// read reads into b, retrying EINTR (a socket with SO_RCVTIMEO is never
// restarted after a signal). EAGAIN means the receive timeout expired.
func (c *conn) read(b []byte) (int, error) {
	for {
		n, err := unix.Read(c.fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, os.NewSyscallError("read", err)
		}
		return n, nil
	}
}

// readHolding waits until fd is readable or deadline (on now's clock)
// passes, keeping the goroutine's P (Options.HoldP), then reads into b.
// A passed deadline is EAGAIN, as an expired SO_RCVTIMEO is. EINTR is the
// runtime's preemption signal: the loop yields, then waits for what is
// left of the deadline.
func (c *conn) readHolding(b []byte, deadline int64) (int, error) {
	c.pfd[0] = unix.PollFd{Fd: int32(c.fd), Events: unix.POLLIN}
	for {
		t := now()
		if deadline <= t {
			return 0, os.NewSyscallError("read", unix.EAGAIN)
		}
		ts := unix.NsecToTimespec(deadline - t)
		r, _, errno := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&c.pfd[0])), 1,
			uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		switch {
		case errno == unix.EINTR:
			runtime.Gosched() // the preemption it was asked for
			continue
		case errno != 0:
			return 0, os.NewSyscallError("ppoll", errno)
		case r == 0:
			continue // the deadline passed: said above
		}
		return c.read(b)
	}
}

// setRcvTimeout sets SO_RCVTIMEO unless it is in force already.
func (c *conn) setRcvTimeout(d time.Duration) error {
	d = max(d, time.Millisecond) // a zero timeval would mean no timeout
	if d == c.rcvTimeout {
		return nil
	}
	if err := setTimeout(c.fd, unix.SO_RCVTIMEO, d); err != nil {
		return err
	}
	c.rcvTimeout = d
	return nil
}

// setTimeout sets the socket timeout option opt (SO_RCVTIMEO or SO_SNDTIMEO).
func setTimeout(fd, opt int, d time.Duration) error {
	tv := unix.NsecToTimeval(d.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, opt, &tv); err != nil {
		return fmt.Errorf("connloop: set socket timeout: %w", os.NewSyscallError("setsockopt", err))
	}
	return nil
}
