// Package conformance is the HTTP conformance suite that every flashbench
// server architecture runs in its own tests. Because all architectures
// share httpcore, they must answer every case byte for byte alike: a
// difference is a bug in the architecture's connection handling (body
// skipping, pipelining, partial writes, closing), not a matter of taste.
//
// An architecture's test builds the fixture root with Docroot, starts its
// server on that root on 127.0.0.1, and calls Run with the server's
// address.
package conformance

// Conn says what the server must do with the connection after the last
// expected response of a case.
type Conn uint8

// Connection outcomes. ConnAny checks nothing; ConnClose requires the
// server to close (the client reads EOF); ConnOpen requires it to stay open
// (a follow-up request on the same connection is answered).
const (
	ConnAny Conn = iota
	ConnClose
	ConnOpen
)

// String returns the outcome's name, for failure messages.
func (c Conn) String() string {
	switch c {
	case ConnClose:
		return "close"
	case ConnOpen:
		return "open"
	}
	return "any"
}

// Want is what one response must be.
type Want struct {
	// Status is the expected status code.
	Status int
	// Head marks the answer to a HEAD request: it has no body even though
	// Content-Length announces one.
	Head bool
	// Header maps field names (any case) to the exact expected value; "*"
	// only requires the field to be present. Content-Type is compared by
	// media type, ignoring parameters such as charset.
	Header map[string]string
	// Absent lists fields that must not be present.
	Absent []string
	// BodyFile, when set, names a file below the root (slash separated)
	// whose bytes the body (or, for HEAD, Content-Length) must equal.
	BodyFile string
	// BodyContains, when set, must occur in the body.
	BodyContains string
}

// Case is one conformance case: raw request bytes written in one write on
// a fresh TCP connection, and the responses they must produce in order.
type Case struct {
	// Name names the subtest.
	Name string
	// Request is written verbatim.
	Request string
	// Status is the status of the first response.
	Status int
	// Head, Header, Absent, BodyFile and BodyContains describe the first
	// response, as in Want.
	Head         bool
	Header       map[string]string
	Absent       []string
	BodyFile     string
	BodyContains string
	// More are the responses expected after the first one (pipelines).
	More []Want
	// Conn is what the server must do with the connection afterwards.
	Conn Conn
	// Next is the follow-up request for ConnOpen; it must be answered 200
	// with the content of 500b.txt. Empty means a default HTTP/1.1 GET.
	Next string
}

// Wants returns every response the case expects, in order.
func (c Case) Wants() []Want {
	first := Want{
		Status:       c.Status,
		Head:         c.Head,
		Header:       c.Header,
		Absent:       c.Absent,
		BodyFile:     c.BodyFile,
		BodyContains: c.BodyContains,
	}
	return append([]Want{first}, c.More...)
}

// nextRequest is the default follow-up request that proves a connection
// stayed open.
const nextRequest = "GET /500b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"

// Allow is the Allow value of a 405 response: the methods a static server
// serves.
const Allow = "GET, HEAD"
