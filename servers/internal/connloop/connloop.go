// Package connloop is the blocking HTTP connection loop that the forking,
// pre-forked and threaded flashbench architectures share. It serves one
// connection on a raw descriptor with plain blocking system calls (read,
// writev, sendfile), without net.Conn or the Go netpoller, so that each
// connection occupies one kernel thread exactly as in the MP and MT servers
// of the Flash paper. Timeouts are socket options (SO_RCVTIMEO and
// SO_SNDTIMEO), the only way a blocking call can time out.
package connloop

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
)

// Defaults for zero Options fields.
const (
	DefaultHeaderTimeout  = 10 * time.Second
	DefaultIdleTimeout    = 60 * time.Second
	DefaultWriteTimeout   = 30 * time.Second
	DefaultReadBufferSize = 16 << 10
)

// Options tunes a connection loop. A zero field takes its default.
type Options struct {
	// HeaderTimeout bounds the time from the first byte of a request to
	// the end of its header (408 and close beyond it). It also bounds the
	// wait for the first request of a new connection (close, no answer).
	HeaderTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a persistent
	// connection (close, no answer).
	IdleTimeout time.Duration
	// WriteTimeout bounds each blocking write that makes no progress.
	WriteTimeout time.Duration
	// ReadBufferSize is the initial request buffer; it grows up to what the
	// parser limits allow for one request header.
	ReadBufferSize int
	// OnError, when set, receives the error of each connection that
	// ServeListener served and that ended in an error.
	OnError func(error)
	// CGI, when set, answers the requests whose path names a CGI program
	// (httpcore.Core.CGIName), with blocking calls on this thread.
	CGI CGI
	// Conns, when set, follows the connections (Track on the same core):
	// Conns.Stop ends them gracefully, and a read lease break stops the
	// responses sending from the file.
	Conns *Conns
}

func (o Options) withDefaults() Options {
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = DefaultHeaderTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.ReadBufferSize <= 0 {
		o.ReadBufferSize = DefaultReadBufferSize
	}
	return o
}

// conn is the state of one connection. buf[start:end] holds received bytes
// not yet consumed.
type conn struct {
	fd     int
	core   *httpcore.Core
	opts   Options
	parser httpcore.Parser
	req    httpcore.Request
	plan   httpcore.Plan
	body   []byte // a CGI request body

	buf        []byte
	start, end int
	maxBuf     int
	skip       int64         // request body bytes still to discard
	served     int           // responses sent
	deadline   time.Time     // end of the header timeout of a partial request
	rcvTimeout time.Duration // SO_RCVTIMEO in force; -1 before the first set
	iov        [][]byte      // writev scratch
	// sending is the leased file a mapped body is being written from, and
	// idle is set while the connection waits for a request: both for
	// Conns, which reads them from another goroutine.
	sending atomic.Pointer[httpcore.File]
	idle    atomic.Bool
}

// Serve serves one connection on fd until the client closes it, an error,
// a timeout, or a response that closes it. It does not close fd. A client
// that closes between requests, a timeout and a refused request are not
// errors; a client that vanishes mid-request and failed writes (EPIPE,
// ECONNRESET, EFAULT from a mapped file truncated under us) are.
func Serve(fd int, core *httpcore.Core, opts Options) error {
	opts = opts.withDefaults()
	lim := core.Config().Limits
	c := &conn{
		fd:         fd,
		core:       core,
		opts:       opts,
		parser:     httpcore.Parser{Limits: lim},
		buf:        make([]byte, opts.ReadBufferSize),
		rcvTimeout: -1,
	}
	// The parser refuses any header longer than this, so the buffer never
	// needs to grow past it.
	c.maxBuf = max(opts.ReadBufferSize, lim.MaxRequestLine+2+lim.MaxHeaders*(lim.MaxHeaderLine+2)+2)
	if err := setTimeout(fd, unix.SO_SNDTIMEO, opts.WriteTimeout); err != nil {
		return err
	}
	// Small pipelined responses must not wait for ACKs; MSG_MORE still
	// coalesces a header with its sendfile body.
	err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if err != nil && !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.ENOPROTOOPT) {
		return fmt.Errorf("connloop: set TCP_NODELAY: %w", os.NewSyscallError("setsockopt", err))
	}
	if opts.Conns != nil {
		opts.Conns.add(c)
		defer opts.Conns.remove(c)
	}
	return c.serve()
}

// serve is the request loop.
func (c *conn) serve() error {
	for {
		n, err := c.parser.Parse(c.buf[c.start:c.end], &c.req)
		var herr *httpcore.Error
		switch {
		case err == nil:
			c.start += n
			done, err := c.respond()
			if done || err != nil {
				return err
			}
		case err == httpcore.ErrNeedMore:
			c.start += n // leading empty lines may go
			done, err := c.fill()
			if done || err != nil {
				return err
			}
		case errors.As(err, &herr):
			return c.fail(herr.Status)
		default:
			return fmt.Errorf("connloop: parse: %w", err)
		}
	}
}

// respond answers the parsed request, then skips its body. done reports
// that the connection must end.
func (c *conn) respond() (done bool, err error) {
	c.deadline = time.Time{}
	bodyTaken := false
	if name, ok := c.cgiName(); ok {
		if bodyTaken, err = c.respondCGI(name); err != nil {
			return true, err
		}
	} else {
		c.core.Respond(&c.req, &c.plan)
	}
	closeConn := c.plan.Close
	if !closeConn && c.req.ContentLength > 0 && !bodyTaken {
		c.skip = c.req.ContentLength
	}
	err = c.send()
	c.plan.Release()
	c.served++
	if err != nil {
		return true, err
	}
	if closeConn {
		return true, c.lingerIfUnread()
	}
	return c.skipBody()
}

// fail answers status to a request that cannot be served (nil request: the
// stream is not trusted) and ends the connection.
func (c *conn) fail(status int) error {
	c.core.RespondError(status, nil, &c.plan)
	err := c.send()
	c.plan.Release()
	if err != nil {
		return err
	}
	return c.linger()
}

// fill reads more bytes of the current request. done reports that the
// connection ended: the client closed or stayed idle, or a header timed out.
func (c *conn) fill() (done bool, err error) {
	if c.start == c.end {
		c.start, c.end = 0, 0
		return c.waitRequest()
	}
	if c.deadline.IsZero() {
		c.deadline = time.Now().Add(c.opts.HeaderTimeout)
	}
	if c.end == len(c.buf) && !c.makeRoom() {
		return true, c.fail(431)
	}
	left := time.Until(c.deadline)
	if left <= 0 {
		return true, c.fail(408)
	}
	if err := c.setRcvTimeout(left); err != nil {
		return true, err
	}
	n, err := c.read()
	switch {
	case errors.Is(err, unix.EAGAIN):
		return true, c.fail(408)
	case err != nil:
		return true, fmt.Errorf("connloop: read request: %w", err)
	case n == 0:
		return true, fmt.Errorf("connloop: read request: %w", io.ErrUnexpectedEOF)
	}
	return false, nil
}

// waitRequest waits for the first bytes of a request on an empty buffer.
// A client that closes, or stays silent past the idle (or, before the first
// request, header) timeout, ends the connection without an answer, and so
// does a shutdown (Conns.Stop) unless the request is already there.
func (c *conn) waitRequest() (done bool, err error) {
	wait := c.opts.IdleTimeout
	if c.served == 0 {
		wait = c.opts.HeaderTimeout
	}
	if err := c.setRcvTimeout(wait); err != nil {
		return true, err
	}
	if cs := c.opts.Conns; cs != nil {
		c.idle.Store(true) // before looking at stopping, which Stop sets before looking at idle
		defer c.idle.Store(false)
		if cs.stopping.Load() {
			unix.Shutdown(c.fd, unix.SHUT_RD)
		}
	}
	n, err := c.read()
	switch {
	case errors.Is(err, unix.EAGAIN):
		return true, nil
	case err != nil:
		return true, fmt.Errorf("connloop: read request: %w", err)
	case n == 0:
		return true, nil
	}
	c.deadline = time.Now().Add(c.opts.HeaderTimeout)
	return false, nil
}

// makeRoom frees space at the end of buf by moving the unconsumed bytes to
// the front, or by growing buf up to maxBuf. It reports false when the
// header already fills the largest buffer.
func (c *conn) makeRoom() bool {
	if c.start > 0 {
		c.end = copy(c.buf, c.buf[c.start:c.end])
		c.start = 0
		return true
	}
	if len(c.buf) >= c.maxBuf {
		return false
	}
	nb := make([]byte, min(2*len(c.buf), c.maxBuf))
	c.end = copy(nb, c.buf[:c.end])
	c.buf = nb
	return true
}

// skipBody discards the body of the request just answered. done reports
// that the connection ended.
func (c *conn) skipBody() (done bool, err error) {
	for c.skip > 0 {
		if c.end > c.start {
			k := int(min(int64(c.end-c.start), c.skip))
			c.start += k
			c.skip -= int64(k)
			continue
		}
		c.start, c.end = 0, 0
		if err := c.setRcvTimeout(c.opts.HeaderTimeout); err != nil {
			return true, err
		}
		n, err := c.read()
		switch {
		case errors.Is(err, unix.EAGAIN):
			return true, nil
		case err != nil:
			return true, fmt.Errorf("connloop: read body: %w", err)
		case n == 0:
			return true, fmt.Errorf("connloop: read body: %w", io.ErrUnexpectedEOF)
		}
	}
	if c.start == c.end {
		c.start, c.end = 0, 0
	}
	return false, nil
}

// read appends what one read returns to buf[end:], retrying EINTR (a
// socket with SO_RCVTIMEO is never restarted after a signal). EAGAIN means
// the receive timeout expired.
func (c *conn) read() (int, error) {
	for {
		n, err := unix.Read(c.fd, c.buf[c.end:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, os.NewSyscallError("read", err)
		}
		c.end += n
		return n, nil
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
