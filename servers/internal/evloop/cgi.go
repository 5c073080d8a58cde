package evloop

import (
	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/httpconn"
)

// CGI answers the requests for CGI programs on a Loop
// (httpconn.ServeOptions.CGI). The connection layer checks the request
// first (httpcore.Core.CGICheck) and reads a request body whole before
// ServeCGI is called.
type CGI interface {
	// ServeCGI plans the response of program name to req, whose body is
	// body (valid until the response is complete). Like Handler.Serve it
	// returns true when p is ready now, false when it calls
	// l.Complete(c) later, on the loop thread.
	ServeCGI(l *Loop, c *Conn, name []byte, req *httpcore.Request, body []byte, p *httpcore.Plan) bool
	httpconn.CGI
}

// readCGIBody reads the rest of a CGI request body straight from the
// socket. It reports whether c can go on.
func (l *Loop) readCGIBody(c *Conn) bool {
	for {
		if !c.readable {
			l.armRead(c)
			return false
		}
		buf := c.hc.BodyBuffer()
		n, err := rawRead(c.fd, buf)
		switch {
		case err == unix.EAGAIN:
			c.readable = false
			continue
		case err == unix.EINTR:
			continue
		case err != nil:
			l.ioError(c, err, true)
			return false
		case n == 0:
			l.st.ReadErrors.Add(1)
			l.close(c)
			return false
		}
		if n < len(buf) {
			c.readable = false
		}
		if c.hc.BodyReceived(n) {
			break
		}
	}
	l.dispatchCGI(c)
	return !c.closed
}

// dispatchCGI hands a complete CGI request to the CGI face.
func (l *Loop) dispatchCGI(c *Conn) {
	name, body := c.hc.CGIRequest()
	if l.cgi.ServeCGI(l, c, name, c.hc.Request(), body, c.hc.Plan()) {
		c.hc.Queue(l.now)
		return
	}
	c.hc.Hold()
	l.clearTimer(c)
}
