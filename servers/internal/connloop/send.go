package connloop

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/httpconn"
)

// errStale ends a response whose file's lease broke while it was sent.
var errStale = errors.New("connloop: send: the file changed while it was sent")

// send writes the queued output: header and body in one writev for bytes
// and mapped chunks, header with MSG_MORE then sendfile for a file range.
// It stops, before writing more, a mapped body whose file's lease broke.
func (c *conn) send() error {
	if c.hc.Cork() {
		unix.SetsockoptInt(c.fd, unix.IPPROTO_TCP, unix.TCP_CORK, 1)
	}
	if f := c.hc.MappedFile(); f != nil {
		c.sending.Store(f)
		defer c.sending.Store(nil)
	}
	for iov := c.hc.Iovecs(); len(iov) > 0; iov = c.hc.Iovecs() {
		if f := c.sending.Load(); f != nil && f.Stale() {
			return errStale
		}
		n, err := c.writeIov(iov)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("connloop: send: %w", os.NewSyscallError("writev", err))
		}
		c.hc.Advance(n)
	}
	for {
		fd, off, left := c.hc.SendFile()
		if left == 0 {
			break
		}
		n, err := unix.Sendfile(c.fd, fd, off, left)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("connloop: send body: %w", os.NewSyscallError("sendfile", err))
		}
		if n == 0 {
			return fmt.Errorf("connloop: send body: file shrank, %d bytes short: %w", left, io.ErrUnexpectedEOF)
		}
		c.hc.FileSent(n)
	}
	c.hc.Sent()
	return nil
}

// writeIov writes the iovecs with one blocking call (Conn.WriteCall).
func (c *conn) writeIov(iov []unix.Iovec) (int, error) {
	r, _, e := unix.Syscall(c.hc.WriteCall(c.fd, iov))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// finish ends a connection whose last response is sent: at once, or
// after lingering when the client sent bytes this connection will not
// read (in the buffer or still in the kernel). After a short read the
// kernel held nothing more, so it closes without asking (FIONREAD), as
// the event loops do.
func (c *conn) finish() error {
	if !c.hc.Unread() {
		if c.drained {
			return nil
		}
		if n, err := unix.IoctlGetInt(c.fd, unix.SIOCINQ); err != nil || n == 0 {
			return nil
		}
	}
	return c.linger()
}

// linger half-closes the connection, so the client sees the end of the
// responses, then discards what the client still sends until it closes,
// for at most httpconn.LingerTime and LingerBytes.
func (c *conn) linger() error {
	if err := unix.Shutdown(c.fd, unix.SHUT_WR); err != nil {
		if errors.Is(err, unix.ENOTCONN) {
			return nil
		}
		return fmt.Errorf("connloop: linger: %w", os.NewSyscallError("shutdown", err))
	}
	c.hc.Linger()
	deadline := time.Now().Add(httpconn.LingerTime)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		if err := c.setRcvTimeout(left); err != nil {
			return err
		}
		n, err := c.read(c.hc.LingerBuffer())
		if n == 0 || err != nil || c.hc.Discarded(n) {
			return nil // EOF, reset, timeout or enough: the response is out either way
		}
	}
}
