package httpconn

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/stats"
)

// out is a connection's queued output: iov[head:] still to write, then
// the file range of sf with sendfile. The iovecs are kept between
// requests, so the steady state allocates nothing.
type out struct {
	iov    []unix.Iovec
	head   int
	sf     *httpcore.Plan // a BodyFile plan whose header ends iov
	sfOff  int64
	sfLeft int64
	corked bool  // TCP_CORK is set (Cork)
	queued int64 // bytes queued since the output was last empty
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
	o.queued += int64(len(b))
}

// appendPlan queues the header and body of p: header, bytes and mapped
// chunks as iovecs, a file range for sendfile after them.
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
			o.queued += p.Length
		}
	}
}

// Iovecs returns the buffers to write next (StepSend), at most MaxIovecs;
// none when they are all written. After a write, call Advance.
func (c *Conn) Iovecs() []unix.Iovec {
	return c.iov[c.head:min(len(c.iov), c.head+MaxIovecs)]
}

// Msghdr returns a message header over iov (from Iovecs) for sendmsg,
// which a write takes when a file range follows (FileFollows), and which
// an io_uring loop takes for every write. It is the connection's own:
// sending it allocates nothing, and it stays where it is while the
// connection does, so the kernel may read it after the call returns.
func (c *Conn) Msghdr(iov []unix.Iovec) *unix.Msghdr {
	c.msg.Iov = &iov[0]
	c.msg.SetIovlen(len(iov))
	return &c.msg
}

// WriteCall returns the system call that writes iov (from Iovecs) to
// the socket fd, with its arguments, for the wait strategy to make with
// unix.Syscall or unix.RawSyscall: writev, or sendmsg with MSG_MORE when
// more is to come. A header leaves in the same segment as the start of
// its body when a file range follows (FileFollows); the last bytes of a
// connection that closes after them (Closing) wait for the close, so
// that the FIN rides on their segment instead of one of its own (the
// piggy-backed FIN of the HotOS 1997 paper). The pointers it passes as
// integers point into c (its iovecs and message header), which the
// caller holds across the call.
func (c *Conn) WriteCall(fd int, iov []unix.Iovec) (trap, a1, a2, a3 uintptr) {
	if f := c.SendFlags(); f&unix.MSG_MORE != 0 {
		return unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(c.Msghdr(iov))), uintptr(f)
	}
	return unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov))
}

// SendFlags returns the flags a sendmsg of the Iovecs takes:
// MSG_NOSIGNAL, and MSG_MORE when a file range follows or the connection
// closes after them, for the reasons WriteCall gives.
func (c *Conn) SendFlags() int {
	if c.sf != nil || c.closeAfter {
		return unix.MSG_MORE | unix.MSG_NOSIGNAL
	}
	return unix.MSG_NOSIGNAL
}

// CorkBytes is the longest output of a closing connection that MSG_MORE
// alone holds back until the close. Of a longer one the first segments
// may leave during the write (a full segment goes at once, and past half
// the peer's window every one is pushed), and their ACKs then push the
// rest before the close can add its FIN: TCP_CORK holds it (Cork).
const CorkBytes = 16 << 10

// Cork reports, once per output, that the output about to be written
// ends a connection that closes after it and that MSG_MORE cannot hold
// back (a file range, which sendfile sends without MSG_MORE, or more than
// CorkBytes): set TCP_CORK on the socket before writing it, so that the
// close sends the last segment with the FIN on it.
func (c *Conn) Cork() bool {
	if !c.closeAfter || c.corked || c.outEmpty() || c.sf == nil && c.queued <= CorkBytes {
		return false
	}
	c.corked = true
	return true
}

// FileFollows reports whether a file range follows the iovecs: write
// them with MSG_MORE, so that a header leaves in the same segment as the
// start of its body.
func (c *Conn) FileFollows() bool { return c.sf != nil }

// Advance consumes n written bytes from the front of the iovecs.
func (c *Conn) Advance(n int) {
	if c.srv.st != nil {
		c.srv.st.BytesSent.Add(uint64(n))
	}
	for n > 0 && c.head < len(c.iov) {
		v := &c.iov[c.head]
		if uint64(n) < v.Len {
			v.Base = (*byte)(unsafe.Add(unsafe.Pointer(v.Base), n))
			v.Len -= uint64(n)
			return
		}
		n -= int(v.Len)
		c.head++
	}
}

// SendFile returns the file range to send once the iovecs are written:
// the file's descriptor, the offset for sendfile to advance, and how many
// bytes to send now (at most 1 GiB; 0 when none are left). After a
// sendfile, call FileSent.
func (c *Conn) SendFile() (fd int, off *int64, n int) {
	if c.sfLeft == 0 {
		return -1, nil, 0
	}
	return c.sf.File.Fd(), &c.sfOff, int(min(c.sfLeft, 1<<30))
}

// FileSent accounts for n bytes sendfile sent.
func (c *Conn) FileSent(n int) {
	if c.srv.st != nil {
		c.srv.st.BytesSent.Add(uint64(n))
	}
	c.sfLeft -= int64(n)
}

// Sent releases the Plans of the output, all of it written now, and
// empties the output for reuse.
func (c *Conn) Sent() {
	c.ReleaseQueued()
	if !c.pending {
		c.qlo, c.qhi = 0, 0
	}
	c.nraw = 0
}

// ReleaseQueued releases the queued Plans and drops the output, sent or
// not: the connection closes, or stops sending (a lease broke).
func (c *Conn) ReleaseQueued() {
	for i := c.qlo; i < c.qhi; i++ {
		c.plans[i].Release()
	}
	c.qlo = c.qhi
	clear(c.iov) // drop references to mapped chunks and cached headers
	c.iov, c.head = c.iov[:0], 0
	c.sf, c.sfOff, c.sfLeft, c.corked, c.queued = nil, 0, 0, false, 0
	c.msg.Iov = nil
}

// SendingFile returns the file whose range is being sent with sendfile,
// or nil.
func (c *Conn) SendingFile() *httpcore.File {
	if c.sf == nil || c.sfLeft == 0 {
		return nil
	}
	return c.sf.File
}

// MappedFile returns the leased file of the first queued response with a
// mapped body, or nil: the file a writev copies from.
func (c *Conn) MappedFile() *httpcore.File {
	for i := c.qlo; i < c.qhi; i++ {
		if p := &c.plans[i]; p.Kind == httpcore.BodyMapped && p.File != nil {
			return p.File
		}
	}
	return nil
}

// SendsStale reports whether output is left and a queued response comes
// from a file whose lease broke.
func (c *Conn) SendsStale() bool {
	if c.outEmpty() {
		return false
	}
	for i := c.qlo; i < c.qhi; i++ {
		if f := c.plans[i].File; f != nil && f.Stale() {
			return true
		}
	}
	return false
}

// CountError counts a failed read or write of a connection in st by its
// class: a reset (ECONNRESET, EPIPE), EFAULT (a mapped file truncated
// under a send), else a read or write error.
func CountError(st *stats.Counters, err error, read bool) {
	switch {
	case err == unix.ECONNRESET || err == unix.EPIPE:
		st.ResetErrors.Add(1)
	case err == unix.EFAULT:
		st.EFaultErrors.Add(1)
	case read:
		st.ReadErrors.Add(1)
	default:
		st.WriteErrors.Add(1)
	}
}
