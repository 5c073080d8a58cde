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
	iov := c.hc.Iovecs()
	// A zero-copy send is neither corked nor sent with MSG_MORE: held
	// back for the close's FIN, its data would not leave, so its
	// notification would not come, until the kernel's 200 ms push timer.
	zc := l.zcMin > 0 && len(iov) > 0 && iovBytes(iov) >= l.zcMin
	if !zc && c.hc.Cork() {
		unix.SetsockoptInt(c.fd, unix.IPPROTO_TCP, unix.TCP_CORK, 1)
	}
	if len(iov) > 0 {
		// The header and the body leave in one sendmsg, from the
		// connection's own iovecs and message header, which stay put
		// until the completion.
		s := l.sqe()
		if zc {
			s.PrepSendmsgZC(c.fd, c.hc.Msghdr(iov), c.hc.SendFlags()&^unix.MSG_MORE, uring.SendZCReportUsage)
			c.zc = true
			l.counts.zcSends.Add(1)
		} else {
			s.PrepSendmsg(c.fd, c.hc.Msghdr(iov), c.hc.SendFlags())
		}
		s.SetUserData(tag(c.idx, kindSend))
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
// rest of a partial send goes out next, and once all is out c goes on. A
// zero-copy send completes twice, its result and then the notification
// that the kernel holds no reference to its pages: only then may the
// plans go, so its result waits for the notification.
func (l *Loop) sendDone(c *Conn, cqe *uring.CQE) {
	res := cqe.Res
	if c.zc {
		switch {
		case cqe.Notif():
			if uint32(cqe.Res)&uring.NotifZCCopied != 0 {
				l.counts.zcCopied.Add(1)
			}
			res = c.zcRes
		case cqe.More():
			c.zcRes = cqe.Res
			return
		}
		c.zc = false // a notification, or a failure that has none
	}
	c.sending = false
	l.ops--
	if c.closed {
		c.hc.ReleaseQueued() // no send reads the plans any more
		l.release(c)
		return
	}
	switch {
	case res > 0:
		c.hc.Advance(int(res))
		l.setTimer(c, listWrite, l.now+int64(l.opts.WriteTimeout)) // progress
	case res == -int32(unix.EINTR) || res == -int32(unix.EAGAIN):
	case res == 0:
		l.st.WriteErrors.Add(1) // nothing taken of a non-empty send
		l.close(c)
		return
	default:
		l.ioError(c, errno(res), false)
		return
	}
	// The rest of the output, or its end (Sent) before anything else:
	// Next sees an output written to its end as no output at all.
	if l.flush(c) {
		l.process(c)
	}
}

// iovBytes returns the bytes iov holds.
func iovBytes(iov []unix.Iovec) int {
	n := 0
	for _, v := range iov {
		n += int(v.Len)
	}
	return n
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
