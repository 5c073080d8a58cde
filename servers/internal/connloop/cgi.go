package connloop

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
)

// CGI answers the requests for CGI programs on a blocking connection
// (Options.CGI). The loop checks the request first
// (httpcore.Core.CGICheck) and reads a request body whole before calling
// ServeCGI.
type CGI interface {
	// ServeCGI plans the response of program name to req, whose body is
	// body, blocking until the program answers or fails.
	ServeCGI(name []byte, req *httpcore.Request, body []byte, p *httpcore.Plan)
}

// cgiName reports whether the request is for a CGI program.
func (c *conn) cgiName() ([]byte, bool) {
	if c.opts.CGI == nil {
		return nil, false
	}
	return c.core.CGIName(c.req.Path)
}

// respondCGI plans the answer to a CGI request: a refusal, or the
// program's response once its body is read. bodyTaken reports that the
// body was consumed here.
func (c *conn) respondCGI(name []byte) (bodyTaken bool, err error) {
	if status := c.core.CGICheck(&c.req, name); status != 0 {
		c.core.RespondError(status, &c.req, &c.plan)
		return false, nil
	}
	n := max(c.req.ContentLength, 0)
	if int64(cap(c.body)) < n {
		c.body = make([]byte, 0, n)
	}
	body := c.body[:0]
	k := int(min(int64(c.end-c.start), n))
	body = append(body, c.buf[c.start:c.start+k]...)
	c.start += k
	if len(body) < int(n) {
		if err := c.setRcvTimeout(c.opts.HeaderTimeout); err != nil {
			return true, err
		}
	}
	for len(body) < int(n) {
		m, err := unix.Read(c.fd, body[len(body):n])
		switch {
		case err == unix.EINTR:
			continue
		case errors.Is(err, unix.EAGAIN):
			return true, fmt.Errorf("connloop: read body: timeout")
		case err != nil:
			return true, fmt.Errorf("connloop: read body: %w", err)
		case m == 0:
			return true, fmt.Errorf("connloop: read body: %w", io.ErrUnexpectedEOF)
		}
		body = body[:len(body)+m]
	}
	c.body = body
	c.opts.CGI.ServeCGI(name, &c.req, body, &c.plan)
	return true, nil
}
