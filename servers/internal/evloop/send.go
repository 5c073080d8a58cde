package evloop

import (
	"golang.org/x/sys/unix"

	"flashbench/servers/internal/httpconn"
)

// writeIov writes as much of the queued iovecs as one non-blocking
// system call takes (Conn.WriteCall).
func (c *Conn) writeIov(iov []unix.Iovec) (int, unix.Errno) {
	r, _, e := unix.RawSyscall(c.hc.WriteCall(c.fd, iov))
	return int(r), e
}

// flush writes the queued output. It reports true when all of it is sent
// (the plans are then released); false when the socket is full (c waits
// for EPOLLOUT under the write timeout) or c was closed on an error.
func (l *Loop) flush(c *Conn) bool {
	progress := false
	if c.hc.Cork() {
		unix.SetsockoptInt(c.fd, unix.IPPROTO_TCP, unix.TCP_CORK, 1)
	}
	for iov := c.hc.Iovecs(); len(iov) > 0; iov = c.hc.Iovecs() {
		n, e := c.writeIov(iov)
		switch e {
		case 0:
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			l.waitWritable(c, progress)
			return false
		default:
			l.ioError(c, e, false)
			return false
		}
		c.hc.Advance(n)
		progress = true
	}
	for {
		fd, off, left := c.hc.SendFile()
		if left == 0 {
			break
		}
		n, err := rawSendfile(c.fd, fd, off, left)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			l.waitWritable(c, progress)
			return false
		case err != nil:
			l.ioError(c, err, false)
			return false
		case n == 0: // the file shrank under us: the promised length cannot be sent
			l.st.WriteErrors.Add(1)
			l.close(c)
			return false
		}
		c.hc.FileSent(n)
		progress = true
	}
	c.hc.Sent()
	if c.tm.List() == listWrite {
		l.clearTimer(c)
	}
	return true
}

// waitWritable arms the write timeout; progress restarts it.
func (l *Loop) waitWritable(c *Conn, progress bool) {
	if progress || c.tm.List() != listWrite {
		l.setTimer(c, listWrite, l.now+int64(l.opts.WriteTimeout))
	}
}

// finish ends a connection whose last response is sent: a plain close, or
// a lingering close when the client sent bytes this connection will not
// read. A connection whose last read was short had nothing more to read
// then, and no edge has come since: it closes without asking the socket
// (FIONREAD), as nginx does; bytes sent after that read are as late as
// bytes sent after the question would be.
func (l *Loop) finish(c *Conn) {
	if !c.hc.Unread() && (!c.readable || rawInq(c.fd) == 0) {
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

// drainLinger discards input of a half-closed connection until the client
// closes, LingerBytes have come, or the linger timer fires.
func (l *Loop) drainLinger(c *Conn) {
	for !c.closed {
		n, err := rawRead(c.fd, c.hc.LingerBuffer())
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return
		case err != nil || n == 0:
			l.close(c) // EOF or reset: the response is out either way
			return
		}
		if c.hc.Discarded(n) {
			l.close(c)
		}
	}
}

// setNoDelay turns Nagle's algorithm off, so that small pipelined
// responses do not wait for ACKs (MSG_MORE still coalesces a header with
// its sendfile body). Set on the listener, it is inherited by every
// accepted socket on Linux, which saves a system call per connection. A
// socket that does not support it (not TCP) is served anyway.
func setNoDelay(fd int) {
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
}
