package evloop

import (
	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
)

// CGI answers the requests for CGI programs on a Loop (Options.CGI). The
// loop checks the request first (httpcore.Core.CGICheck) and reads a
// request body whole before calling ServeCGI.
type CGI interface {
	// ServeCGI plans the response of program name to req, whose body is
	// body (valid until the response is complete). Like Handler.Serve it
	// returns true when p is ready now, false when it calls
	// l.Complete(c) later, on the loop thread.
	ServeCGI(l *Loop, c *Conn, name []byte, req *httpcore.Request, body []byte, p *httpcore.Plan) bool
}

// cgiState is a connection's CGI request while its body is read.
type cgiState struct {
	name      []byte // the program, aliasing the request buffer
	body      []byte // the request body, len(body) bytes read so far
	left      int64  // body bytes still to read
	bodyTaken bool   // the body was consumed here: do not skip it
}

func (s *cgiState) reset() {
	s.name, s.body, s.left, s.bodyTaken = nil, s.body[:0], 0, false
}

// startCGI handles a parsed request for a CGI program: refuse it, or take
// its body (from the buffer, then from the socket) and pass it on.
func (l *Loop) startCGI(c *Conn, name []byte) {
	p := &c.plans[c.qhi]
	if status := l.core.CGICheck(&c.req, name); status != 0 {
		l.core.RespondError(status, &c.req, p)
		l.queue(c, p)
		return
	}
	c.cgi.name = name
	c.cgi.body = c.cgi.body[:0]
	if n := c.req.ContentLength; n > 0 {
		c.cgi.bodyTaken = true
		if int64(cap(c.cgi.body)) < n {
			c.cgi.body = make([]byte, 0, n)
		}
		k := int(min(int64(c.end-c.start), n))
		c.cgi.body = append(c.cgi.body, c.buf[c.start:c.start+k]...)
		c.start += k
		if c.cgi.left = n - int64(k); c.cgi.left > 0 {
			return // readCGIBody goes on from process
		}
	}
	l.dispatchCGI(c)
}

// readCGIBody reads the rest of a CGI request body straight from the
// socket (never into the request buffer, which the request's slices
// alias). It reports whether c can go on.
func (l *Loop) readCGIBody(c *Conn) bool {
	s := &c.cgi
	for s.left > 0 {
		if !c.readable {
			l.setTimer(c, listHeader, l.now+int64(l.opts.HeaderTimeout))
			return false
		}
		have := len(s.body)
		want := int(s.left)
		n, err := rawRead(c.fd, s.body[have:have+want])
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
		if n < want {
			c.readable = false
		}
		s.body = s.body[:have+n]
		s.left -= int64(n)
	}
	l.dispatchCGI(c)
	return !c.closed
}

// dispatchCGI hands a complete CGI request to Options.CGI.
func (l *Loop) dispatchCGI(c *Conn) {
	p := &c.plans[c.qhi]
	if l.opts.CGI.ServeCGI(l, c, c.cgi.name, &c.req, c.cgi.body, p) {
		l.queue(c, p)
		return
	}
	c.pending = true
	l.clearTimer(c)
}
