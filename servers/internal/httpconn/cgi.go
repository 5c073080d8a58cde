package httpconn

// cgiState is a connection's CGI request while its body is taken in.
type cgiState struct {
	name      []byte // the program, aliasing the request buffer
	body      []byte // the request body, len(body) bytes read so far
	left      int64  // body bytes still to read
	bodyTaken bool   // the body was consumed here: do not skip it
}

func (s *cgiState) reset() {
	s.name, s.body, s.left, s.bodyTaken = nil, s.body[:0], 0, false
}

// CGIName reports whether the request of the last StepRequest names a CGI
// program and the server has a CGI face (ServeOptions.CGI); name is nil
// for a path under the prefix that names no valid program (StartCGI
// refuses it).
func (c *Conn) CGIName() (name []byte, ok bool) {
	if c.srv.opts.CGI == nil {
		return nil, false
	}
	return c.srv.core.CGIName(c.req.Path)
}

// StartCGI takes the request for program name (from CGIName). It refuses
// the request when the core does (Core.CGICheck: the refusal is queued),
// or takes in its body: what the buffer holds now, the rest through
// StepBody. It reports true when the request is ready for the CGI face
// (CGIRequest), false when it was refused or its body is still due.
func (c *Conn) StartCGI(name []byte, now int64) bool {
	p := &c.plans[c.qhi]
	if status := c.srv.core.CGICheck(&c.req, name); status != 0 {
		c.srv.core.RespondError(status, &c.req, p)
		c.Queue(now)
		return false
	}
	s := &c.cgi
	s.name = name
	s.body = s.body[:0]
	if n := c.req.ContentLength; n > 0 {
		s.bodyTaken = true
		if int64(cap(s.body)) < n {
			s.body = make([]byte, 0, n)
		}
		k := int(min(int64(c.end-c.start), n))
		s.body = append(s.body, c.buf[c.start:c.start+k]...)
		c.start += k
		s.left = n - int64(k)
	}
	return s.left == 0
}

// BodyBuffer returns where the rest of a CGI request body goes
// (StepBody): straight from the socket into the body, never through the
// request buffer, which the request's slices alias.
func (c *Conn) BodyBuffer() []byte {
	have := len(c.cgi.body)
	return c.cgi.body[have : have+int(c.cgi.left)]
}

// BodyReceived accounts for n > 0 body bytes read into BodyBuffer. It
// reports true once the body is complete and the request ready for the
// CGI face (CGIRequest).
func (c *Conn) BodyReceived(n int) bool {
	s := &c.cgi
	s.body = s.body[:len(s.body)+n]
	s.left -= int64(n)
	return s.left == 0
}

// CGIRequest returns the program and the whole body of the CGI request
// StartCGI or BodyReceived reported ready; both stay valid until its
// response is sent.
func (c *Conn) CGIRequest() (name, body []byte) { return c.cgi.name, c.cgi.body }
