package uringloop

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/httpconn"
	"flashbench/servers/internal/uring"
)

// flush sends the queued output. It reports true when all of it is sent
// (the plans are then released); false when a send is in flight (its
// completion goes on with c, under the write timeout) or c was closed.
func (l *Loop) flush(c *Conn) bool {
	if c.hc.Cork() {
		unix.SetsockoptInt(c.fd, unix.IPPROTO_TCP, unix.TCP_CORK, 1)
	}
	if iov := c.hc.Iovecs(); len(iov) > 0 {
		// The header and the body leave in one sendmsg, from the
		// connection's own iovecs and message header, which stay put
		// until the completion.
		l.sqe().PrepSendmsg(c.fd, c.hc.Msghdr(iov), c.hc.SendFlags()).SetUserData(tag(c.idx, kindSend))
		c.sending = true
		l.ops++
		if c.tm.List() != listWrite {
			l.setTimer(c, listWrite, l.now+int64(l.opts.WriteTimeout))
		}
		return false
	}
	if c.hc.FileFollows() {
		// New refuses a core that plans file ranges.
		l.st.WriteErrors.Add(1)
		l.close(c)
		return false
	}
	c.hc.Sent()
	if c.tm.List() == listWrite {
		l.clearTimer(c)
	}
	return true
}

// sendDone handles a sendmsg's completion: what it sent is consumed, the
// rest of a partial send goes out next, and once all is out c goes on.
func (l *Loop) sendDone(c *Conn, cqe *uring.CQE) {
	c.sending = false
	l.ops--
	if c.closed {
		c.hc.ReleaseQueued() // no send reads the plans any more
		l.release(c)
		return
	}
	switch {
	case cqe.Res > 0:
		c.hc.Advance(int(cqe.Res))
		l.setTimer(c, listWrite, l.now+int64(l.opts.WriteTimeout)) // progress
	case cqe.Res == -int32(unix.EINTR) || cqe.Res == -int32(unix.EAGAIN):
	case cqe.Res == 0:
		l.st.WriteErrors.Add(1) // nothing taken of a non-empty send
		l.close(c)
		return
	default:
		l.ioError(c, errno(cqe.Res), false)
		return
	}
	// The rest of the output, or its end (Sent) before anything else:
	// Next sees an output written to its end as no output at all.
	if l.flush(c) {
		l.process(c)
	}
}

// finish ends a connection whose last response is sent: a plain close, or
// a lingering close when the client sent bytes this connection will not
// read. As in evloop, the kernel is asked (SIOCINQ) only when the last
// recv said it left bytes in the socket.
func (l *Loop) finish(c *Conn) {
	if !c.hc.Unread() && c.held() == 0 && (c.eof || !c.nonEmpty || rawInq(c.fd) == 0) {
		l.close(c)
		return
	}
	if err := unix.Shutdown(c.fd, unix.SHUT_WR); err != nil {
		l.close(c)
		return
	}
	c.hc.Linger()
	l.setTimer(c, listLinger, l.now+int64(httpconn.LingerTime))
	l.drainLinger(c)
}

// drainLinger discards the input of a half-closed connection until the
// client closes, LingerBytes have come, or the linger timer fires.
func (l *Loop) drainLinger(c *Conn) {
	for c.held() > 0 {
		ch := &c.in[c.inHead]
		n := ch.end - ch.off
		l.recycleBuf(ch.bid)
		c.inHead++
		if c.hc.Discarded(n) {
			l.close(c)
			return
		}
	}
	c.in, c.inHead = c.in[:0], 0
	if c.eof || c.rerr != 0 {
		l.close(c) // EOF or reset: the response is out either way
		return
	}
	l.armRecv(c)
}

// rawInq returns the bytes waiting in the socket's receive queue.
func rawInq(fd int) int {
	var n int32
	_, _, e := unix.RawSyscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCINQ, uintptr(unsafe.Pointer(&n)))
	if e != 0 {
		return 0
	}
	return int(n)
}
