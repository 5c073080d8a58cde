package evloop

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
)

// maxIovecs is IOV_MAX on Linux: the most buffers one writev takes.
const maxIovecs = 1024

// out is a connection's queued output: iov[head:] still to write, then
// the file range of sf with sendfile. The iovecs are kept between
// requests, so the steady state allocates nothing.
type out struct {
	iov    []unix.Iovec
	head   int
	sf     *httpcore.Plan // a BodyFile plan whose header ends iov
	sfOff  int64
	sfLeft int64
	msg    unix.Msghdr
}

func (o *out) outEmpty() bool { return o.head == len(o.iov) && o.sf == nil }

func (o *out) appendBytes(b []byte) {
	if len(b) == 0 {
		return
	}
	v := unix.Iovec{Base: &b[0]}
	v.SetLen(len(b))
	o.iov = append(o.iov, v)
}

// appendPlan queues the header and body of p.
func (o *out) appendPlan(p *httpcore.Plan) {
	o.appendBytes(p.Header)
	switch p.Kind {
	case httpcore.BodyBytes:
		o.appendBytes(p.Bytes)
	case httpcore.BodyMapped:
		for _, ch := range p.Chunks {
			o.appendBytes(ch.Bytes())
		}
	case httpcore.BodyFile:
		if p.Length > 0 {
			o.sf, o.sfOff, o.sfLeft = p, p.Offset, p.Length
		}
	}
}

// advance consumes n written bytes from the front of iov.
func (o *out) advance(n int) {
	for n > 0 && o.head < len(o.iov) {
		v := &o.iov[o.head]
		if uint64(n) < v.Len {
			v.Base = (*byte)(unsafe.Add(unsafe.Pointer(v.Base), n))
			v.Len -= uint64(n)
			return
		}
		n -= int(v.Len)
		o.head++
	}
}

// writeIov writes as much of iov[head:] as one system call takes: writev,
// or sendmsg with MSG_MORE when a sendfile body follows, so that the
// header leaves in the same segment as the start of the body.
func (o *out) writeIov(fd int) (int, unix.Errno) {
	iov := o.iov[o.head:min(len(o.iov), o.head+maxIovecs)]
	var r uintptr
	var e unix.Errno
	if o.sf == nil {
		r, _, e = unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	} else {
		o.msg.Iov = &iov[0]
		o.msg.SetIovlen(len(iov))
		r, _, e = unix.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&o.msg)), unix.MSG_MORE|unix.MSG_NOSIGNAL)
		o.msg.Iov = nil
	}
	return int(r), e
}

// flush writes the queued output. It reports true when all of it is sent
// (the plans are then released); false when the socket is full (c waits
// for EPOLLOUT under the write timeout) or c was closed on an error.
func (l *Loop) flush(c *Conn) bool {
	progress := false
	for c.head < len(c.iov) {
		n, e := c.writeIov(c.fd)
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
		l.st.BytesSent.Add(uint64(n))
		c.advance(n)
		progress = true
	}
	for c.sfLeft > 0 {
		n, err := unix.Sendfile(c.fd, c.sf.File.Fd(), &c.sfOff, int(min(c.sfLeft, 1<<30)))
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
		l.st.BytesSent.Add(uint64(n))
		c.sfLeft -= int64(n)
		progress = true
	}
	c.drained()
	if c.tlist == listWrite {
		l.clearTimer(c)
	}
	return true
}

// waitWritable arms the write timeout; progress restarts it.
func (l *Loop) waitWritable(c *Conn, progress bool) {
	if progress || c.tlist != listWrite {
		l.setTimer(c, listWrite, l.now+int64(l.opts.WriteTimeout))
	}
}

// drained releases the plans whose bytes are all sent and resets the
// output for reuse.
func (c *Conn) drained() {
	c.releaseQueued()
	if !c.pending {
		c.qlo, c.qhi = 0, 0
	}
	c.nraw = 0
}

// releaseQueued releases plans[qlo:qhi] and empties the output.
func (c *Conn) releaseQueued() {
	for i := c.qlo; i < c.qhi; i++ {
		c.plans[i].Release()
	}
	c.qlo = c.qhi
	clear(c.iov) // drop references to mapped chunks and cached headers
	c.iov, c.head = c.iov[:0], 0
	c.sf, c.sfOff, c.sfLeft = nil, 0, 0
}

// finish ends a connection whose last response is sent: a plain close, or
// a lingering close after an error response or when the client sent bytes
// this connection will not read.
func (l *Loop) finish(c *Conn) {
	unread := c.lingerNext || c.start < c.end || c.skip > 0
	if !unread {
		unread = rawInq(c.fd) > 0
	}
	if !unread {
		l.close(c)
		return
	}
	if err := unix.Shutdown(c.fd, unix.SHUT_WR); err != nil {
		l.close(c)
		return
	}
	c.lingering = true
	c.lingered = 0
	l.setTimer(c, listLinger, l.now+int64(lingerTime))
	l.drainLinger(c)
}

// drainLinger discards input of a half-closed connection until the client
// closes, lingerBytes have come, or the linger timer fires.
func (l *Loop) drainLinger(c *Conn) {
	for !c.closed {
		n, err := rawRead(c.fd, c.buf)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return
		case err != nil || n == 0:
			l.close(c) // EOF or reset: the response is out either way
			return
		}
		c.lingered += n
		if c.lingered >= lingerBytes {
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
