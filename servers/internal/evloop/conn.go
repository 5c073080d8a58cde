package evloop

import (
	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
)

// maxBatch bounds the pipelined responses answered together: they share
// one writev, and each holds a Plan until the batch is sent.
const maxBatch = 16

// Conn is one client connection of a Loop. Conns are pooled: a Conn is
// valid from Handler.Serve until the loop closes it, and one closed while
// a request is pending stays reserved until its Complete.
type Conn struct {
	fd int

	closed     bool
	pending    bool // a Handler has the request; it will Complete
	readable   bool // the socket may hold input (an edge arrived since the last short read)
	closeAfter bool // close once the queued output is sent
	lingerNext bool // and linger first: an error response
	lingering  bool
	parked     bool // stopped by a lease break: the lease drain closes it

	// timeout list links
	tlist        uint8
	tprev, tnext *Conn
	deadline     int64
	reqStart     int64 // when the current request began (monotonic ns)

	buf        []byte // buf[start:end] is received input not yet consumed
	start, end int
	skip       int64 // request body bytes still to discard
	served     int
	lingered   int

	parser httpcore.Parser
	req    httpcore.Request
	// plans[qlo:qhi] are queued for sending; while pending, plans[qhi] is
	// with the Handler.
	plans    [maxBatch]httpcore.Plan
	qlo, qhi int
	nraw     int // raw responses queued

	cgi cgiState

	out
}

// Fd returns the connection's socket descriptor.
func (c *Conn) Fd() int { return c.fd }

// newConn sets up an accepted socket.
func (l *Loop) newConn(fd int) {
	var c *Conn
	if n := len(l.free); n > 0 {
		c = l.free[n-1]
		l.free[n-1] = nil
		l.free = l.free[:n-1]
	} else {
		c = &Conn{buf: make([]byte, l.opts.ReadBufferSize)}
		c.parser.Limits = l.limits
	}
	c.fd, c.closed = fd, false
	if err := l.rawEpollAdd(fd, unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLRDHUP|unix.EPOLLET); err != nil {
		rawClose(fd)
		l.acc.Release()
		c.closed = true
		l.free = append(l.free, c)
		l.st.AcceptErrors.Add(1)
		return
	}
	l.setEntry(fd, fdEntry{conn: c})
	l.nconns++
	c.reqStart = l.now
	l.setTimer(c, listHeader, l.now+int64(l.opts.HeaderTimeout))
	if l.acc.Full() {
		l.pauseListener()
	}
}

// connEvent handles the epoll events of a connection.
func (l *Loop) connEvent(c *Conn, ev uint32) {
	if c.parked {
		return
	}
	if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		c.readable = true
	} else if c.outEmpty() {
		return // writable, with nothing to write
	}
	if c.lingering {
		l.drainLinger(c)
		return
	}
	l.process(c)
}

// process moves c forward as far as it can without blocking: send what is
// queued, answer the complete requests in the buffer, read more input.
func (l *Loop) process(c *Conn) {
	for !c.closed {
		if !c.outEmpty() {
			if !l.flush(c) {
				return
			}
			if c.closeAfter {
				l.finish(c)
				return
			}
		}
		if c.pending || c.lingering {
			return
		}
		if c.cgi.left > 0 {
			if !l.readCGIBody(c) {
				return
			}
			continue
		}
		if l.serveBuffered(c) {
			continue
		}
		if !l.fill(c) {
			return
		}
	}
}

// serveBuffered answers the complete requests in the buffer, up to a batch.
// It reports whether it consumed any.
func (l *Loop) serveBuffered(c *Conn) bool {
	served := false
	for !c.pending && !c.closeAfter && c.sf == nil && c.qhi < maxBatch && c.nraw < maxBatch && c.cgi.left == 0 {
		if c.skip > 0 {
			k := int(min(int64(c.end-c.start), c.skip))
			c.start += k
			c.skip -= int64(k)
			if c.skip > 0 {
				break
			}
		}
		if c.start == c.end {
			break
		}
		var ok bool
		if l.raw != nil {
			ok = l.serveRaw(c)
		} else {
			ok = l.serveOne(c)
		}
		if !ok {
			break
		}
		served = true
	}
	return served
}

// serveOne parses one request from the buffer and answers it. It reports
// false when the request is incomplete.
func (l *Loop) serveOne(c *Conn) bool {
	n, err := c.parser.Parse(c.buf[c.start:c.end], &c.req)
	switch {
	case err == nil:
		c.start += n
	case err == httpcore.ErrNeedMore:
		c.start += n // leading empty lines may go
		return false
	default:
		status := 400
		if herr, ok := err.(*httpcore.Error); ok {
			status = herr.Status
		}
		l.fail(c, status)
		return true
	}
	if l.opts.CGI != nil {
		if name, ok := l.core.CGIName(c.req.Path); ok {
			l.startCGI(c, name)
			return true
		}
	}
	p := &c.plans[c.qhi]
	if l.handler == nil {
		l.core.Respond(&c.req, p)
	} else if !l.handler.Serve(c, &c.req, p) {
		c.pending = true
		l.clearTimer(c)
		return true
	}
	l.queue(c, p)
	return true
}

// serveRaw answers one request with the raw function.
func (l *Loop) serveRaw(c *Conn) bool {
	n, resp, closeAfter := l.raw(c.buf[c.start:c.end])
	if n <= 0 {
		return false
	}
	c.start += n
	c.nraw++
	c.served++
	c.reqStart = l.now
	l.st.Response(200)
	c.appendBytes(resp)
	if closeAfter {
		c.closeAfter = true
	}
	return true
}

// queue appends the response in p (plans[qhi]) to the output. A file
// whose lease broke while its response waited (for a helper) may not be
// sent from any more: that response becomes a 503.
func (l *Loop) queue(c *Conn, p *httpcore.Plan) {
	if p.File != nil && p.File.Stale() {
		l.core.RespondError(503, &c.req, p)
	}
	c.qhi++
	c.served++
	c.reqStart = l.now
	l.st.Response(p.Status)
	if p.Close {
		c.closeAfter = true
	} else if c.req.ContentLength > 0 && !c.cgi.bodyTaken {
		c.skip = c.req.ContentLength
	}
	c.cgi.bodyTaken = false
	c.appendPlan(p)
}

// fail queues an error response to a request that cannot be parsed: the
// stream is no longer trusted, so the connection lingers and closes.
func (l *Loop) fail(c *Conn, status int) {
	p := &c.plans[c.qhi]
	l.core.RespondError(status, nil, p)
	c.qhi++
	l.st.Response(status)
	c.skip = 0
	c.closeAfter, c.lingerNext = true, true
	c.appendPlan(p)
}

// fill reads more input. It reports true when there is new input (or a
// queued error response) to look at, false when c must wait or closed.
func (l *Loop) fill(c *Conn) bool {
	if c.start == c.end {
		c.start, c.end = 0, 0
	}
	if !c.readable {
		l.waitInput(c)
		return false
	}
	if c.end == len(c.buf) && !c.makeRoom(l.maxBuf) {
		if l.raw != nil {
			l.close(c)
			return false
		}
		l.fail(c, 431)
		return true
	}
	empty := c.start == c.end
	space := len(c.buf) - c.end
	n, err := rawRead(c.fd, c.buf[c.end:])
	switch {
	case err == unix.EAGAIN:
		c.readable = false
		l.waitInput(c)
		return false
	case err == unix.EINTR:
		return true
	case err != nil:
		l.ioError(c, err, true)
		return false
	case n == 0:
		if !empty || c.skip > 0 {
			l.st.ReadErrors.Add(1) // the client vanished mid-request
		}
		l.close(c)
		return false
	}
	if empty && c.skip == 0 {
		c.reqStart = l.now
	}
	c.end += n
	if n < space {
		c.readable = false // a short read drained the socket; the next edge says when there is more
	}
	return true
}

// waitInput leaves c waiting for input; a draining loop closes it instead
// when it is between requests.
func (l *Loop) waitInput(c *Conn) {
	if l.draining && c.start == c.end && c.skip == 0 {
		l.close(c)
		return
	}
	l.armRead(c)
}

// armRead sets the timeout of a connection waiting for input.
func (l *Loop) armRead(c *Conn) {
	switch {
	case c.skip > 0:
		l.setTimer(c, listHeader, l.now+int64(l.opts.HeaderTimeout))
	case c.start < c.end || c.served == 0:
		l.setTimer(c, listHeader, c.reqStart+int64(l.opts.HeaderTimeout))
	default:
		l.setTimer(c, listIdle, l.now+int64(l.opts.IdleTimeout))
	}
}

// makeRoom frees space at the end of buf by moving the unconsumed bytes to
// the front, or by growing buf up to limit. It reports false when the
// input already fills the largest buffer.
func (c *Conn) makeRoom(limit int) bool {
	if c.start > 0 {
		c.end = copy(c.buf, c.buf[c.start:c.end])
		c.start = 0
		return true
	}
	if len(c.buf) >= limit {
		return false
	}
	nb := make([]byte, min(2*len(c.buf), limit))
	c.end = copy(nb, c.buf[:c.end])
	c.buf = nb
	return true
}

// timeout handles a connection whose deadline on list k passed.
func (l *Loop) timeout(c *Conn, k int) {
	switch k {
	case listHeader:
		l.st.TimeoutErrors.Add(1)
		if c.start < c.end && c.skip == 0 && l.raw == nil {
			l.fail(c, 408)
			l.process(c)
			return
		}
		l.close(c)
	case listWrite:
		l.st.TimeoutErrors.Add(1)
		l.close(c)
	default: // idle, linger
		l.close(c)
	}
}

// ioError counts a failed read or write and closes c.
func (l *Loop) ioError(c *Conn, err error, read bool) {
	switch {
	case err == unix.ECONNRESET || err == unix.EPIPE:
		l.st.ResetErrors.Add(1)
	case err == unix.EFAULT:
		l.st.EFaultErrors.Add(1)
	case read:
		l.st.ReadErrors.Add(1)
	default:
		l.st.WriteErrors.Add(1)
	}
	l.close(c)
}

// close closes c's socket and releases its plans; c returns to the pool
// unless a Handler still holds it.
func (l *Loop) close(c *Conn) {
	if c.closed {
		return
	}
	l.clearTimer(c)
	if c.fd < len(l.fds) {
		l.fds[c.fd] = fdEntry{}
	}
	rawClose(c.fd) // also leaves the epoll set: the descriptor is not shared
	c.closed, c.parked = true, false
	l.nconns--
	l.acc.Release()
	c.releaseQueued()
	if !c.pending {
		l.recycle(c)
	}
	if !l.listening {
		l.resumeListener()
	}
}

// recycle resets a closed connection and returns it to the pool.
func (l *Loop) recycle(c *Conn) {
	c.fd = -1
	c.pending, c.readable, c.closeAfter, c.lingerNext, c.lingering = false, false, false, false, false
	c.start, c.end, c.skip, c.served, c.lingered = 0, 0, 0, 0, 0
	c.qlo, c.qhi, c.nraw = 0, 0, 0
	c.cgi.reset()
	c.req.Reset()
	l.free = append(l.free, c)
}
