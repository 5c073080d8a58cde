package evloop

import (
	"golang.org/x/sys/unix"

	"flashbench/servers/internal/deadline"
	"flashbench/servers/internal/httpconn"
)

// Conn is one client connection of a Loop. Conns are pooled: a Conn is
// valid from Handler.Serve until the loop closes it, and one closed while
// a request is pending stays reserved until its Complete.
type Conn struct {
	fd int

	closed   bool
	readable bool // the socket may hold input (an edge arrived since the last short read)
	parked   bool // stopped by a lease break: the lease drain closes it

	tm deadline.Entry[*Conn] // its place on the timeout lists

	hc httpconn.Conn // everything between bytes in and buffers out
}

// Fd returns the connection's socket descriptor.
func (c *Conn) Fd() int { return c.fd }

// newConn sets up an accepted socket and serves it at once: a client
// whose connection waited in the accept queue has most often sent its
// request already, so one read answers it, and a connection that ends
// with its response never joins the epoll set (no epoll_ctl, no readiness
// round). Only a connection left waiting for input, output room or a
// helper is added, edge-triggered; adding it reports the readiness it
// already has, so no edge is lost.
func (l *Loop) newConn(fd int) {
	var c *Conn
	if n := len(l.free); n > 0 {
		c = l.free[n-1]
		l.free[n-1] = nil
		l.free = l.free[:n-1]
	} else {
		c = &Conn{}
		c.tm.Owner = c
		l.srv.Init(&c.hc)
	}
	c.fd, c.closed = fd, false
	l.setEntry(fd, fdEntry{conn: c})
	l.nconns++
	c.hc.Start(l.now)
	if l.acc.Full() {
		l.pauseListener()
	}
	c.readable = true
	l.process(c)
	if c.closed {
		return
	}
	if err := l.rawEpollAdd(fd, unix.EPOLLIN|unix.EPOLLOUT|unix.EPOLLRDHUP|unix.EPOLLET); err != nil {
		l.st.AcceptErrors.Add(1)
		l.close(c)
	}
}

// connEvent handles the epoll events of a connection.
func (l *Loop) connEvent(c *Conn, ev uint32) {
	if c.parked {
		return
	}
	if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		c.readable = true
	} else if len(c.hc.Iovecs()) == 0 && !c.hc.FileFollows() {
		return // writable, with nothing to write
	}
	if c.hc.Lingering() {
		l.drainLinger(c)
		return
	}
	l.process(c)
}

// process moves c forward as far as it can without blocking: send what is
// queued, answer the complete requests in the buffer, read more input.
func (l *Loop) process(c *Conn) {
	for !c.closed {
		switch c.hc.Next(l.now) {
		case httpconn.StepSend:
			if !l.flush(c) {
				return
			}
		case httpconn.StepFinish:
			l.finish(c)
			return
		case httpconn.StepWait:
			return
		case httpconn.StepBody:
			if !l.readCGIBody(c) {
				return
			}
		case httpconn.StepRequest:
			l.serveOne(c)
		case httpconn.StepRead:
			if !l.fill(c) {
				return
			}
		}
	}
}

// serveOne answers the request just parsed: CGI, the Handler, or the
// core inline.
func (l *Loop) serveOne(c *Conn) {
	if name, ok := c.hc.CGIName(); ok {
		if c.hc.StartCGI(name, l.now) {
			l.dispatchCGI(c)
		}
		return
	}
	req, p := c.hc.Request(), c.hc.Plan()
	if l.handler == nil {
		l.core.Respond(req, p)
	} else if !l.handler.Serve(c, req, p) {
		c.hc.Hold()
		l.clearTimer(c)
		return
	}
	c.hc.Queue(l.now)
}

// fill reads more input. It reports true when there is new input (or a
// queued error response) to look at, false when c must wait or closed.
func (l *Loop) fill(c *Conn) bool {
	if !c.readable {
		l.waitInput(c)
		return false
	}
	buf := c.hc.ReadBuffer()
	if buf == nil {
		if l.srv.Raw() {
			l.close(c)
			return false
		}
		c.hc.Fail(431)
		return true
	}
	n, err := rawRead(c.fd, buf)
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
		if c.hc.MidRequest() {
			l.st.ReadErrors.Add(1) // the client vanished mid-request
		}
		l.close(c)
		return false
	}
	c.hc.Received(n, l.now)
	if n < len(buf) {
		c.readable = false // a short read drained the socket; the next edge says when there is more
	}
	return true
}

// waitInput leaves c waiting for input; a draining loop closes it instead
// when it is between requests.
func (l *Loop) waitInput(c *Conn) {
	if l.draining && c.hc.Idle() {
		l.close(c)
		return
	}
	l.armRead(c)
}

// armRead sets the timeout of a connection waiting for input.
func (l *Loop) armRead(c *Conn) {
	w, deadline := c.hc.ReadDeadline(l.now)
	if w == httpconn.WaitIdle {
		l.setTimer(c, listIdle, deadline)
		return
	}
	l.setTimer(c, listHeader, deadline)
}

// timeout handles a connection whose deadline on list k passed.
func (l *Loop) timeout(c *Conn, k int) {
	switch k {
	case listHeader:
		l.st.TimeoutErrors.Add(1)
		if c.hc.TimedOut() {
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
	httpconn.CountError(l.st, err, read)
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
	c.hc.ReleaseQueued()
	if !c.hc.Held() {
		l.recycle(c)
	}
	if !l.listening {
		l.resumeListener()
	}
}

// recycle resets a closed connection and returns it to the pool.
func (l *Loop) recycle(c *Conn) {
	c.fd = -1
	c.readable = false
	c.hc.Reset()
	l.free = append(l.free, c)
}
