package uringloop

import (
	"golang.org/x/sys/unix"

	"flashbench/servers/internal/uring"
)

// armRecv arms c's recv unless it is armed, its stream ended, or it waits
// for buffers. A connection's first recv is a single shot: most often it
// takes the whole of a request that ends the connection, and a multishot
// recv would then stay armed (a poll the kernel sets up once the socket
// is empty) until a cancel tears it down, an operation in each direction
// per connection for nothing. Any later recv is multishot: that
// connection stays for more.
func (l *Loop) armRecv(c *Conn) {
	if c.recvArmed || c.eof || c.rerr != 0 || c.starved || c.closed {
		return
	}
	l.sqe().PrepRecvSelect(c.fd, bufGroup, 0, c.recvBefore).SetUserData(tag(c.idx, kindRecv))
	c.recvArmed, c.recvCancel, c.recvBefore = true, false, true
	l.ops++
}

// recvDone handles a recv completion: a buffer of input, the end of the
// stream, an error, or the end of the multishot (a cancel, no buffers).
// The input is held in order; c takes it when it asks for input, which
// it does at once unless it is sending or a handler holds it.
func (l *Loop) recvDone(c *Conn, cqe *uring.CQE) {
	if !cqe.More() {
		c.recvArmed = false
		l.ops--
	}
	if bid, ok := cqe.Buffer(); ok {
		if c.closed || cqe.Res <= 0 {
			l.recycleBuf(bid)
		} else {
			c.in = append(c.in, inChunk{bid: bid, end: int(cqe.Res)})
		}
	}
	if c.closed {
		l.release(c)
		return
	}
	switch {
	case cqe.Res > 0:
		c.nonEmpty = cqe.Flags&uring.CQEFSockNonempty != 0
	case cqe.Res == 0:
		c.eof = true
	case cqe.Res == -int32(unix.ENOBUFS):
		c.starved = true
		l.starved = append(l.starved, c)
	case cqe.Res == -int32(unix.ECANCELED):
	default:
		c.rerr = errno(cqe.Res)
	}
	l.input(c)
	if !c.closed && c.recvArmed && !c.recvCancel && c.held() >= maxHeld {
		// c does not read: stop taking buffers from the others.
		l.cancel(tag(c.idx, kindRecv))
		c.recvCancel = true
	}
}

// input moves c on after a recv completion.
func (l *Loop) input(c *Conn) {
	switch {
	case c.sending:
	case c.hc.Lingering():
		l.drainLinger(c)
	default:
		l.process(c)
	}
}

// rearmStarved re-arms the recvs that ended for want of buffers once
// buffers have come back; a connection that is not reading holds at most
// maxHeld of them, so they always do.
func (l *Loop) rearmStarved() {
	if !l.freed || len(l.starved) == 0 {
		return
	}
	for i, c := range l.starved {
		l.starved[i] = nil
		c.starved = false
		if !c.closed {
			l.armRecv(c)
		}
	}
	l.starved = l.starved[:0]
}
