package connloop

import (
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/httpconn"
)

// CGI answers the requests for CGI programs on a blocking connection
// (httpconn.ServeOptions.CGI). The connection layer checks the request
// first (httpcore.Core.CGICheck) and reads a request body whole before
// ServeCGI is called.
type CGI interface {
	// ServeCGI plans the response of program name to req, whose body is
	// body, blocking until the program answers or fails.
	ServeCGI(name []byte, req *httpcore.Request, body []byte, p *httpcore.Plan)
	httpconn.CGI
}

// readBody reads the rest of a CGI request body, then hands the request
// to the CGI face.
func (c *conn) readBody() error {
	t := now()
	_, deadline := c.hc.ReadDeadline(t)
	if err := c.setRcvTimeout(time.Duration(deadline - t)); err != nil {
		return err
	}
	for {
		m, err := unix.Read(c.fd, c.hc.BodyBuffer())
		switch {
		case err == unix.EINTR:
			continue
		case errors.Is(err, unix.EAGAIN):
			return fmt.Errorf("connloop: read body: timeout")
		case err != nil:
			return fmt.Errorf("connloop: read body: %w", err)
		case m == 0:
			return fmt.Errorf("connloop: read body: %w", io.ErrUnexpectedEOF)
		}
		if c.hc.BodyReceived(m) {
			break
		}
	}
	c.dispatchCGI()
	return nil
}

// dispatchCGI has the CGI face answer a complete CGI request.
func (c *conn) dispatchCGI() {
	name, body := c.hc.CGIRequest()
	c.cgi.ServeCGI(name, c.hc.Request(), body, c.hc.Plan())
	c.hc.Queue(now())
}
