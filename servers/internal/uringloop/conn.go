package uringloop

import (
	"syscall"

	"flashbench/servers/internal/deadline"
	"flashbench/servers/internal/httpconn"
)

// Conn is one client connection of a Loop. Conns are pooled: a Conn is
// valid from Handler.Serve until the loop closes it, and one closed while
// a request is pending stays reserved until its Complete.
type Conn struct {
	idx uint32 // its index in the loop's table, in its operations' user data
	fd  int

	closed     bool
	recvArmed  bool  // a recv is armed (until a completion without CQEFMore)
	recvBefore bool  // a recv was armed on this connection before: the next one is multishot
	recvCancel bool  // and a cancel of it is queued
	sending    bool  // a sendmsg is in flight
	zc         bool  // and it is a zero-copy one, whose notification has not come
	zcRes      int32 // its result, once it came: the notification is what it waits for
	starved    bool  // its recv ended for want of buffers: re-armed when some are free
	eof        bool  // the client's end of the stream came, after the input held
	rerr       syscall.Errno
	nonEmpty   bool // the last recv left bytes in the socket

	// in[inHead:] are received buffers not yet consumed, in order.
	in     []inChunk
	inHead int

	tm deadline.Entry[*Conn] // its place on the timeout lists

	hc httpconn.Conn // everything between bytes in and buffers out
}

// inChunk is a provided buffer a recv filled: bytes [off, end) are left.
type inChunk struct {
	bid      uint16
	off, end int
}

// Fd returns the connection's socket descriptor.
func (c *Conn) Fd() int { return c.fd }

// held returns how many received buffers c holds.
func (c *Conn) held() int { return len(c.in) - c.inHead }

// newConn starts serving an accepted socket: its recv is armed, and its
// first request, most often sent already, completes in the same enter
// that submits the recv.
func (l *Loop) newConn(fd int) {
	var c *Conn
	if n := len(l.free); n > 0 {
		c = l.free[n-1]
		l.free[n-1] = nil
		l.free = l.free[:n-1]
	} else {
		c = &Conn{idx: uint32(len(l.conns))}
		c.tm.Owner = c
		l.conns = append(l.conns, c)
		l.srv.Init(&c.hc)
	}
	c.fd, c.closed = fd, false
	l.nconns++
	c.hc.Start(l.now)
	l.process(c)
}

// process moves c forward as far as it can without waiting: send what is
// queued, answer the complete requests in the buffer, take in more input.
func (l *Loop) process(c *Conn) {
	for !c.closed && !c.sending {
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
			if !l.fillBody(c) {
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
		c.hc.Queue(l.now)
		return
	}
	l.served(c, l.handler.Serve(c, req, p))
}

// served queues the plan of c's request when it is ready, or leaves c
// held, off the timeout lists, until Complete.
func (l *Loop) served(c *Conn, ready bool) {
	if ready {
		c.hc.Queue(l.now)
		return
	}
	c.hc.Hold()
	l.clearTimer(c)
}

// fill copies received input into the request buffer. It reports true
// when there is new input (or a queued error response) to look at, false
// when c must wait or closed.
func (l *Loop) fill(c *Conn) bool {
	if c.held() == 0 {
		return l.noInput(c)
	}
	buf := c.hc.ReadBuffer()
	if buf == nil {
		c.hc.Fail(431)
		return true
	}
	c.hc.Received(l.take(c, buf), l.now)
	return true
}

// fillBody copies received input into a CGI request body, and hands the
// request to the CGI face once the body is whole. It reports whether c
// can go on.
func (l *Loop) fillBody(c *Conn) bool {
	if c.held() == 0 {
		return l.noInput(c)
	}
	if c.hc.BodyReceived(l.take(c, c.hc.BodyBuffer())) {
		l.dispatchCGI(c)
	}
	return !c.closed
}

// noInput handles a connection that wants input and holds none: the end
// of its stream, its recv's error, or a wait. It reports false.
func (l *Loop) noInput(c *Conn) bool {
	switch {
	case c.rerr != 0:
		l.ioError(c, c.rerr, true)
	case c.eof:
		if c.hc.MidRequest() {
			l.st.ReadErrors.Add(1) // the client vanished mid-request
		}
		l.close(c)
	default:
		l.waitInput(c)
	}
	return false
}

// take copies held input into dst and returns how many bytes it copied;
// every buffer emptied goes back to the buffer ring.
func (l *Loop) take(c *Conn, dst []byte) int {
	n := 0
	for n < len(dst) && c.inHead < len(c.in) {
		ch := &c.in[c.inHead]
		k := copy(dst[n:], l.bufs.Buf(ch.bid, ch.end)[ch.off:])
		ch.off += k
		n += k
		if ch.off == ch.end {
			l.recycleBuf(ch.bid)
			c.inHead++
		}
	}
	if c.inHead == len(c.in) {
		c.in, c.inHead = c.in[:0], 0
	}
	return n
}

// dropInput gives every held buffer back, unread.
func (l *Loop) dropInput(c *Conn) {
	for _, ch := range c.in[c.inHead:] {
		l.recycleBuf(ch.bid)
	}
	c.in, c.inHead = c.in[:0], 0
}

// recycleBuf adds a buffer back to the ring; enter publishes it.
func (l *Loop) recycleBuf(bid uint16) {
	l.bufs.Add(bid)
	l.freed = true
}

// waitInput leaves c waiting for input; a draining loop closes it instead
// when it is between requests.
func (l *Loop) waitInput(c *Conn) {
	if l.draining && c.hc.Idle() {
		l.close(c)
		return
	}
	l.armRecv(c)
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

// ioError counts a failed recv or send and closes c.
func (l *Loop) ioError(c *Conn, err error, read bool) {
	httpconn.CountError(l.st, err, read)
	l.close(c)
}

// close closes c through the ring: its armed recv and its send in flight
// are cancelled first, in the same submission. Its plans are released
// once no send can read them any more, and c returns to the pool once
// none of its operations can complete and no Handler holds it.
func (l *Loop) close(c *Conn) {
	if c.closed {
		return
	}
	l.clearTimer(c)
	c.closed = true
	if c.recvArmed && !c.recvCancel {
		l.cancel(tag(c.idx, kindRecv))
		c.recvCancel = true
	}
	if c.sending {
		l.cancel(tag(c.idx, kindSend))
	} else {
		c.hc.ReleaseQueued()
	}
	l.sqe().PrepClose(c.fd).SetUserData(tag(c.idx, kindClose)).SkipSuccess()
	l.dropInput(c)
	l.nconns--
	l.acc.Release()
	l.release(c)
	l.admitWaiting()
}

// release returns a closed connection to the pool once nothing refers to
// it: no operation in flight, no Handler holding its request.
func (l *Loop) release(c *Conn) {
	if !c.closed || c.recvArmed || c.sending || c.hc.Held() || c.fd < 0 {
		return
	}
	c.fd = -1
	c.recvCancel, c.recvBefore, c.starved, c.eof, c.rerr, c.nonEmpty = false, false, false, false, 0, false
	c.hc.Reset()
	l.free = append(l.free, c)
}
