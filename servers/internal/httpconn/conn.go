package httpconn

import (
	"flashbench/servers/httpcore"
)

// Step is what a connection needs next (Conn.Next).
type Step uint8

// Steps. After each, the wait strategy calls Next again, unless it must
// wait: for input, for the socket to take more output, or for Complete.
const (
	// StepRead: read input into ReadBuffer, then call Received; the wait
	// is bounded by ReadDeadline.
	StepRead Step = iota
	// StepRequest: a request is parsed (Request); plan its response into
	// Plan and call Queue, or Hold when a handler answers later. A CGI
	// request (CGIName) goes to StartCGI instead.
	StepRequest
	// StepBody: read the rest of a CGI request body into BodyBuffer, then
	// call BodyReceived; the wait is bounded by ReadDeadline.
	StepBody
	// StepSend: write Iovecs, then the file range of SendFile, then call
	// Sent; a wait for the socket is bounded by the write timeout.
	StepSend
	// StepFinish: the last response is sent. Close, or half-close and
	// linger when Unread (or the kernel holds unread input).
	StepFinish
	// StepWait: a handler holds the request (Hold); nothing moves until
	// Complete.
	StepWait
)

// Conn is the state of one connection, the buffers it keeps between
// requests included: a wait strategy pools Conns (Reset) so that the
// steady state allocates nothing.
type Conn struct {
	srv *Server

	buf        []byte // buf[start:end] is received input not yet consumed
	start, end int
	skip       int64 // request body bytes still to discard
	served     int   // responses queued (requests answered)
	reqStart   int64 // when the current request began

	pending    bool // a handler holds the request (Hold)
	closeAfter bool // close once the queued output is sent
	lingerNext bool // and linger first: an error response
	inBatch    bool // Next is answering the buffered requests
	batchAny   bool // and has answered one
	lingering  bool
	lingered   int

	parser httpcore.Parser
	req    httpcore.Request
	// plans[qlo:qhi] are queued for sending; plans[qhi] is the current
	// request's (with a handler while pending).
	plans    []httpcore.Plan
	qlo, qhi int
	nraw     int // raw responses queued

	cgi cgiState
	out
}

// Start begins a new connection at time now (its first request's header
// timeout runs from now).
func (c *Conn) Start(now int64) { c.reqStart = now }

// Reset makes c ready for another connection, keeping its buffers. It
// releases the queued Plans; the held one (Hold) must be released first
// (ReleaseHeld).
func (c *Conn) Reset() {
	c.ReleaseQueued()
	c.pending, c.closeAfter, c.lingerNext, c.inBatch, c.batchAny, c.lingering = false, false, false, false, false, false
	c.start, c.end, c.skip, c.served, c.lingered = 0, 0, 0, 0, 0
	c.qlo, c.qhi, c.nraw = 0, 0, 0
	c.cgi.reset()
	c.req.Reset()
}

// Next says what the connection needs now. It answers the complete
// requests in the buffer in batches: StepRequest for each, up to the
// server's batch, then StepSend for all their responses at once.
func (c *Conn) Next(now int64) Step {
	for {
		if !c.inBatch {
			switch {
			case !c.outEmpty():
				return StepSend
			case c.closeAfter:
				return StepFinish
			case c.pending || c.lingering:
				return StepWait
			case c.cgi.left > 0:
				return StepBody
			}
			c.inBatch, c.batchAny = true, false
		}
		if c.nextBuffered(now) {
			return StepRequest
		}
		c.inBatch = false
		if !c.batchAny {
			return StepRead
		}
	}
}

// nextBuffered takes the next request from the buffer while the batch
// has room: it reports true for a parsed request; raw requests and
// requests that fail to parse are answered here.
func (c *Conn) nextBuffered(now int64) bool {
	for !c.pending && !c.closeAfter && c.sf == nil && c.qhi < len(c.plans) && c.nraw < len(c.plans) && c.cgi.left == 0 {
		if c.skip > 0 {
			k := int(min(int64(c.end-c.start), c.skip))
			c.start += k
			c.skip -= int64(k)
			if c.skip > 0 {
				return false
			}
		}
		if c.start == c.end {
			return false
		}
		if c.srv.raw != nil {
			if !c.serveRaw(now) {
				return false
			}
			c.batchAny = true
			continue
		}
		n, err := c.parser.Parse(c.buf[c.start:c.end], &c.req)
		switch {
		case err == nil:
			c.start += n
			c.batchAny = true
			return true
		case err == httpcore.ErrNeedMore:
			c.start += n // leading empty lines may go
			return false
		}
		status := 400
		if herr, ok := err.(*httpcore.Error); ok {
			status = herr.Status
		}
		c.Fail(status)
		c.batchAny = true
	}
	return false
}

// serveRaw answers one request with the raw function.
func (c *Conn) serveRaw(now int64) bool {
	n, resp, closeAfter := c.srv.raw(c.buf[c.start:c.end])
	if n <= 0 {
		return false
	}
	c.start += n
	c.nraw++
	c.served++
	c.reqStart = now
	if c.srv.st != nil {
		c.srv.st.Response(200)
	}
	c.appendBytes(resp)
	if closeAfter {
		c.closeAfter = true
	}
	return true
}

// Request returns the request of the last StepRequest. Its slices alias
// the input buffer: they stay valid until the next Next, and while the
// request is held (Hold) until Complete.
func (c *Conn) Request() *httpcore.Request { return &c.req }

// Plan returns the Plan for the current request's response.
func (c *Conn) Plan() *httpcore.Plan { return &c.plans[c.qhi] }

// Queue queues the response planned in Plan. A response from a file
// whose lease broke while it waited (for a helper) may not be sent from
// that file any more: it becomes a 503.
func (c *Conn) Queue(now int64) {
	p := &c.plans[c.qhi]
	if p.File != nil && p.File.Stale() {
		c.srv.core.RespondError(503, &c.req, p)
	}
	c.qhi++
	c.served++
	c.reqStart = now
	if c.srv.st != nil {
		c.srv.st.Response(p.Status)
	}
	if p.Close {
		c.closeAfter = true
	} else if c.req.ContentLength > 0 && !c.cgi.bodyTaken {
		c.skip = c.req.ContentLength
	}
	c.cgi.bodyTaken = false
	c.appendPlan(p)
}

// Hold marks the current request as held by a handler that plans its
// response later: the connection neither reads nor parses until
// Complete, so the request's slices stay valid.
func (c *Conn) Hold() { c.pending = true }

// Held reports whether a handler holds the current request.
func (c *Conn) Held() bool { return c.pending }

// Complete queues the response of the held request, now planned.
func (c *Conn) Complete(now int64) {
	c.pending = false
	c.Queue(now)
}

// ReleaseHeld gives up the held request of a connection that closed
// while its handler worked.
func (c *Conn) ReleaseHeld() {
	c.pending = false
	c.plans[c.qhi].Release()
}

// Fail queues the error response status to a request that cannot be
// parsed or read: the stream is no longer trusted, so the connection
// lingers and closes after it.
func (c *Conn) Fail(status int) {
	p := &c.plans[c.qhi]
	c.srv.core.RespondError(status, nil, p)
	c.qhi++
	if c.srv.st != nil {
		c.srv.st.Response(status)
	}
	c.skip = 0
	c.closeAfter, c.lingerNext = true, true
	c.appendPlan(p)
}
