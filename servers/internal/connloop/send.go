package connloop

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
)

// maxIovecs is IOV_MAX on Linux: the most buffers one writev takes.
const maxIovecs = 1024

// Lingering close bounds: after refusing a request the client may still be
// sending; closing with unread input would make the kernel reset the
// connection and could destroy the response before the client reads it.
const (
	lingerTime  = 2 * time.Second
	lingerBytes = 1 << 20
)

// send writes the current plan: header and body in one writev for bytes
// and mapped chunks, header with MSG_MORE then sendfile for a file range.
func (c *conn) send() error {
	p := &c.plan
	iov := append(c.iov[:0], p.Header)
	switch p.Kind {
	case httpcore.BodyBytes:
		iov = append(iov, p.Bytes)
	case httpcore.BodyMapped:
		for _, ch := range p.Chunks {
			iov = append(iov, ch.Bytes())
		}
	case httpcore.BodyFile:
		if p.Length > 0 {
			return c.sendFile(p)
		}
	}
	c.iov = iov
	if p.Kind == httpcore.BodyMapped && p.File != nil {
		c.sending.Store(p.File)
		defer c.sending.Store(nil)
	}
	err := c.writev(iov)
	clear(iov) // do not keep chunk mappings reachable from the scratch
	return err
}

// errStale ends a response whose file's lease broke while it was sent.
var errStale = errors.New("connloop: send: the file changed while it was sent")

// writev writes every byte of iov, resuming after partial writes. It
// stops, before writing more, a mapped body whose file's lease broke.
func (c *conn) writev(iov [][]byte) error {
	for len(iov) > 0 {
		if f := c.sending.Load(); f != nil && f.Stale() {
			return errStale
		}
		n, err := unix.Writev(c.fd, iov[:min(len(iov), maxIovecs)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("connloop: send: %w", os.NewSyscallError("writev", err))
		}
		for n > 0 && len(iov) > 0 {
			if n < len(iov[0]) {
				iov[0] = iov[0][n:]
				break
			}
			n -= len(iov[0])
			iov = iov[1:]
		}
		for len(iov) > 0 && len(iov[0]) == 0 {
			iov = iov[1:]
		}
	}
	return nil
}

// sendFile sends the header with MSG_MORE, so that it leaves in the same
// segment as the start of the body, then the file range with sendfile.
func (c *conn) sendFile(p *httpcore.Plan) error {
	hdr := p.Header
	for len(hdr) > 0 {
		n, err := unix.SendmsgN(c.fd, hdr, nil, nil, unix.MSG_MORE|unix.MSG_NOSIGNAL)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("connloop: send header: %w", os.NewSyscallError("sendmsg", err))
		}
		hdr = hdr[n:]
	}
	off, left := p.Offset, p.Length
	for left > 0 {
		n, err := unix.Sendfile(c.fd, p.File.Fd(), &off, int(min(left, 1<<30)))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("connloop: send body: %w", os.NewSyscallError("sendfile", err))
		}
		if n == 0 {
			return fmt.Errorf("connloop: send body: file shrank, %d bytes short: %w", left, io.ErrUnexpectedEOF)
		}
		left -= int64(n)
	}
	return nil
}

// lingerIfUnread lingers when the client sent bytes this connection will
// not read (in the buffer or still in the kernel), else returns at once.
func (c *conn) lingerIfUnread() error {
	if c.end > c.start {
		return c.linger()
	}
	if n, err := unix.IoctlGetInt(c.fd, unix.SIOCINQ); err == nil && n > 0 {
		return c.linger()
	}
	return nil
}

// linger half-closes the connection, so the client sees the end of the
// responses, then discards what the client still sends until it closes,
// for at most lingerTime and lingerBytes.
func (c *conn) linger() error {
	if err := unix.Shutdown(c.fd, unix.SHUT_WR); err != nil {
		if errors.Is(err, unix.ENOTCONN) {
			return nil
		}
		return fmt.Errorf("connloop: linger: %w", os.NewSyscallError("shutdown", err))
	}
	deadline := time.Now().Add(lingerTime)
	for total := 0; total < lingerBytes; {
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		if err := c.setRcvTimeout(left); err != nil {
			return err
		}
		c.start, c.end = 0, 0
		n, err := c.read()
		if n == 0 || err != nil {
			return nil // EOF, reset or timeout: the response is out either way
		}
		total += n
	}
	return nil
}
