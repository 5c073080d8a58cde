package httpconn

// ReadBuffer returns the free space at the end of the input buffer, for
// the next read (StepRead). It makes room first, by moving the
// unconsumed input to the front or growing the buffer up to what one
// request header may take. It returns nil when the unconsumed input
// fills that already: the header is too long (answer Fail(431), or close
// a raw connection).
func (c *Conn) ReadBuffer() []byte {
	if c.start == c.end {
		c.start, c.end = 0, 0
	}
	if c.end == len(c.buf) && !c.makeRoom() {
		return nil
	}
	return c.buf[c.end:]
}

// makeRoom frees space at the end of buf by moving the unconsumed bytes
// to the front, or by growing buf up to the server's bound. It reports
// false when the input already fills the largest buffer.
func (c *Conn) makeRoom() bool {
	if c.start > 0 {
		c.end = copy(c.buf, c.buf[c.start:c.end])
		c.start = 0
		return true
	}
	if len(c.buf) >= c.srv.maxBuf {
		return false
	}
	nb := make([]byte, min(2*len(c.buf), c.srv.maxBuf))
	c.end = copy(nb, c.buf[:c.end])
	c.buf = nb
	return true
}

// Received accounts for n > 0 bytes read at time now into the slice
// ReadBuffer returned. The first bytes of a request start its header
// timeout.
func (c *Conn) Received(n int, now int64) {
	if c.start == c.end && c.skip == 0 {
		c.reqStart = now
	}
	c.end += n
}

// Wait is what a connection waiting for input (StepRead, StepBody)
// waits for.
type Wait uint8

// Waits, by the timeout that bounds them.
const (
	// WaitHeader: a request header, its first bytes on a new connection,
	// the rest of one begun, or request body bytes; bounded by
	// HeaderTimeout.
	WaitHeader Wait = iota
	// WaitIdle: the next request on a persistent connection; bounded by
	// IdleTimeout.
	WaitIdle
)

// ReadDeadline returns what the connection waits for and until when: a
// header from the time its request began (the connection's start for the
// first), body bytes and the next request from now. Past it, call
// TimedOut.
func (c *Conn) ReadDeadline(now int64) (Wait, int64) {
	o := &c.srv.opts
	switch {
	case c.skip > 0 || c.cgi.left > 0:
		return WaitHeader, now + int64(o.HeaderTimeout)
	case c.start < c.end || c.served == 0:
		return WaitHeader, c.reqStart + int64(o.HeaderTimeout)
	}
	return WaitIdle, now + int64(o.IdleTimeout)
}

// TimedOut handles a wait for input that outlived its ReadDeadline: a
// request whose header has begun gets a 408 (queued: go on with Next),
// and TimedOut reports true; else the connection closes without an
// answer, and TimedOut reports false.
func (c *Conn) TimedOut() bool {
	if c.start < c.end && c.skip == 0 && c.cgi.left == 0 && c.srv.raw == nil {
		c.Fail(408)
		return true
	}
	return false
}

// MidRequest reports whether the connection is inside a request: part of
// a header received, or body bytes still due. The end of the stream there
// is the client's failure, not a close between requests.
func (c *Conn) MidRequest() bool {
	return c.start < c.end || c.skip > 0 || c.cgi.left > 0
}

// Idle reports whether the connection is between requests: nothing
// received of the next one, no body bytes due, no request held. A server
// shutting down closes idle connections.
func (c *Conn) Idle() bool {
	return c.start == c.end && c.skip == 0 && c.cgi.left == 0 && !c.pending
}

// Unread reports whether the client sent bytes this connection will not
// read (an error response, input left in the buffer, a body left
// unskipped): then the connection lingers (Linger) before it closes. The
// kernel may hold more: the wait strategy asks it (SIOCINQ) when Unread
// is false.
func (c *Conn) Unread() bool {
	return c.lingerNext || c.start < c.end || c.skip > 0
}

// Linger starts a lingering close: the wait strategy has half-closed the
// connection and discards what the client still sends into
// LingerBuffer (Discarded) for at most LingerTime.
func (c *Conn) Linger() {
	c.lingering, c.lingered = true, 0
}

// Lingering reports whether the connection lingers.
func (c *Conn) Lingering() bool { return c.lingering }

// LingerBuffer returns the buffer a lingering connection reads into.
func (c *Conn) LingerBuffer() []byte { return c.buf }

// Discarded accounts for n bytes read while lingering; it reports true
// once LingerBytes have come, when the connection stops waiting.
func (c *Conn) Discarded(n int) bool {
	c.lingered += n
	return c.lingered >= LingerBytes
}
