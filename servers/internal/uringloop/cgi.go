package uringloop

import (
	"flashbench/servers/httpcore"
	"flashbench/servers/internal/httpconn"
)

// CGI answers the requests for CGI programs on a Loop
// (httpconn.ServeOptions.CGI), as evloop.CGI does on an epoll loop: the
// face registers its program pipes with AddFd and answers on the loop's
// thread. The connection layer checks the request first
// (httpcore.Core.CGICheck) and takes a request body in whole before
// ServeCGI is called. A face must plan no file ranges, which this loop
// does not send (Loop.SendsFiles): cgi.Loop sends shared-memory bodies
// from the mapped pool instead.
type CGI interface {
	// ServeCGI plans the response of program name to req, whose body is
	// body (valid until the response is complete). Like Handler.Serve it
	// returns true when p is ready now, false when it calls
	// l.Complete(c) later, on the loop thread.
	ServeCGI(l *Loop, c *Conn, name []byte, req *httpcore.Request, body []byte, p *httpcore.Plan) bool
	httpconn.CGI
}

// dispatchCGI hands a complete CGI request to the CGI face.
func (l *Loop) dispatchCGI(c *Conn) {
	name, body := c.hc.CGIRequest()
	l.served(c, l.cgi.ServeCGI(l, c, name, c.hc.Request(), body, c.hc.Plan()))
}
