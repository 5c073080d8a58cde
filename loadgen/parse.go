package loadgen

import (
	"bytes"
	"errors"
	"io"
)

// Parser errors. They are sentinels so the engine can count them by class
// without allocating on the hot path.
var (
	// ErrMalformed reports bytes that are not an HTTP/1.x response.
	ErrMalformed = errors.New("loadgen: malformed response")
	// ErrHeaderTooLarge reports a response header over MaxHeaderBytes.
	ErrHeaderTooLarge = errors.New("loadgen: response header too large")
	// ErrShortBody reports a connection closed before the body was complete.
	ErrShortBody = errors.New("loadgen: short body")
	// ErrNoResponse reports a connection closed before any response byte.
	ErrNoResponse = errors.New("loadgen: connection closed before response")
)

// MaxHeaderBytes bounds a response header; a server sending more is broken.
const MaxHeaderBytes = 64 << 10

const (
	stVersion uint8 = iota
	stStatus
	stReason
	stLineStart
	stName
	stValue
	stEndCR
	stBody
	stBodyClose
	stChunkSize
	stChunkExt
	stChunkData
	stChunkCR
	stTrailer
	stTrailerLine
	stDone
)

const (
	fieldOther uint8 = iota
	fieldContentLength
	fieldTransferEncoding
	fieldConnection
)

const httpPrefix = "HTTP/1."

// ResponseParser parses HTTP/1.x responses incrementally, byte stream in,
// without allocating: status line, Content-Length, chunked transfer coding,
// and Connection: close. One parser serves one connection; Reset readies it
// for the next response on the same connection.
type ResponseParser struct {
	// Body, when non-nil, receives the decoded body bytes (for checksums).
	Body io.Writer

	// Status is the status code of the response being parsed.
	Status int
	// ContentLength is the declared body length, -1 when absent.
	ContentLength int64
	// Chunked reports Transfer-Encoding: chunked.
	Chunked bool
	// Close reports that the server closes the connection after this response.
	Close bool
	// HeaderBytes counts the bytes of the status line and headers.
	HeaderBytes int
	// BodyBytes counts the decoded body bytes received so far.
	BodyBytes int64

	state     uint8
	field     uint8
	pos       uint8
	minor     uint8
	keepAlive bool
	started   bool
	nameLen   int
	valLen    int
	remaining int64
	name      [24]byte
	val       [48]byte
}

// NewResponseParser returns a parser ready for a first response.
func NewResponseParser() *ResponseParser {
	p := &ResponseParser{}
	p.Reset()
	return p
}

// Reset readies the parser for the next response; Body is kept.
func (p *ResponseParser) Reset() {
	body := p.Body
	*p = ResponseParser{Body: body, ContentLength: -1}
}

// Started reports whether any byte of the current response arrived.
func (p *ResponseParser) Started() bool { return p.started }

// Feed consumes bytes of the current response from b. It returns how many
// bytes it used and whether the response is complete; bytes after a complete
// response belong to the next one (pipelining).
func (p *ResponseParser) Feed(b []byte) (n int, done bool, err error) {
	if len(b) > 0 {
		p.started = true
	}
	i := 0
	for i < len(b) {
		switch p.state {
		case stBody, stBodyClose, stChunkData:
			i += p.body(b[i:])
		case stDone:
			return i, true, nil
		case stVersion, stReason, stValue, stName:
			if n := p.run(b[i:]); n > 0 {
				i += n
				continue
			}
			fallthrough
		default:
			if p.state < stBody {
				if p.HeaderBytes++; p.HeaderBytes > MaxHeaderBytes {
					return i, false, ErrHeaderTooLarge
				}
			}
			if err := p.step(b[i]); err != nil {
				return i, false, err
			}
			i++
		}
		if p.state == stDone {
			return i, true, nil
		}
	}
	return i, p.state == stDone, nil
}

// run consumes, in one go, the plain bytes of the header: a status line's
// version and code, a header name or value, the reason phrase. It stops
// before any byte that ends the run or may be invalid, which step handles,
// and returns how many bytes it took; the state is as if step had taken
// them one by one.
func (p *ResponseParser) run(b []byte) int {
	end := min(len(b), MaxHeaderBytes-p.HeaderBytes)
	n := 0
	switch {
	case p.state == stVersion:
		n = p.statusLine(b[:max(end, 0)])
	case p.state == stName:
		for ; n < end; n++ {
			c := b[n]
			if c == ':' || c <= ' ' || c >= 0x7f {
				break
			}
			if p.nameLen < len(p.name) {
				p.name[p.nameLen] = lower(c)
			}
			p.nameLen++
		}
	case p.state == stReason:
		if k := bytes.IndexByte(b[:max(end, 0)], '\n'); k >= 0 {
			end = k
		}
		n = max(end, 0)
	case p.field == fieldOther:
		for n < end && b[n] != '\n' && (b[n] >= ' ' || b[n] == '\t' || b[n] == '\r') {
			n++
		}
	default:
		for ; n < end; n++ {
			c := b[n]
			if c < ' ' || p.valLen >= len(p.val) {
				break
			}
			if p.valLen > 0 || c != ' ' {
				p.val[p.valLen] = lower(c)
				p.valLen++
			}
		}
	}
	p.HeaderBytes += n
	return n
}

// statusLine takes "HTTP/1.x NNN" whole at the start of a response, or
// nothing.
func (p *ResponseParser) statusLine(b []byte) int {
	const n = len(httpPrefix) + 5
	if p.pos != 0 || len(b) < n || string(b[:len(httpPrefix)]) != httpPrefix {
		return 0
	}
	v := b[len(httpPrefix):n]
	if (v[0] != '0' && v[0] != '1') || v[1] != ' ' || !isDigit(v[2]) || !isDigit(v[3]) || !isDigit(v[4]) {
		return 0
	}
	p.minor = v[0] - '0'
	p.Status = int(v[2]-'0')*100 + int(v[3]-'0')*10 + int(v[4]-'0')
	p.pos = 3
	p.state = stStatus
	return n
}

// EOF tells the parser the connection was closed. It reports whether that
// completed the response (a body delimited by the close) or why it did not.
func (p *ResponseParser) EOF() (done bool, err error) {
	switch {
	case p.state == stDone:
		return true, nil
	case p.state == stBodyClose:
		p.state = stDone
		return true, nil
	case !p.started:
		return false, ErrNoResponse
	}
	return false, ErrShortBody
}

// body consumes body bytes of the current state and returns how many.
func (p *ResponseParser) body(b []byte) int {
	n := len(b)
	if p.state != stBodyClose && int64(n) > p.remaining {
		n = int(p.remaining)
	}
	if p.Body != nil && n > 0 {
		p.Body.Write(b[:n])
	}
	p.BodyBytes += int64(n)
	if p.state == stBodyClose {
		return n
	}
	p.remaining -= int64(n)
	if p.remaining == 0 {
		if p.state == stBody {
			p.state = stDone
		} else {
			p.state = stChunkCR
		}
	}
	return n
}

// step advances the header and chunk-framing state machine by one byte.
func (p *ResponseParser) step(c byte) error {
	switch p.state {
	case stVersion:
		return p.version(c)
	case stStatus:
		return p.status(c)
	case stReason:
		if c == '\n' {
			p.state = stLineStart
		}
	case stLineStart:
		return p.lineStart(c)
	case stName:
		return p.headerName(c)
	case stValue:
		return p.headerValue(c)
	case stEndCR:
		if c != '\n' {
			return ErrMalformed
		}
		return p.endHeaders()
	default:
		return p.chunkStep(c)
	}
	return nil
}

func (p *ResponseParser) version(c byte) error {
	switch {
	case int(p.pos) < len(httpPrefix):
		if c != httpPrefix[p.pos] {
			return ErrMalformed
		}
		p.pos++
	case int(p.pos) == len(httpPrefix):
		if c != '0' && c != '1' {
			return ErrMalformed
		}
		p.minor = c - '0'
		p.pos++
	default:
		if c != ' ' {
			return ErrMalformed
		}
		p.pos = 0
		p.state = stStatus
	}
	return nil
}

func (p *ResponseParser) status(c byte) error {
	if p.pos < 3 {
		if c < '0' || c > '9' {
			return ErrMalformed
		}
		p.Status = p.Status*10 + int(c-'0')
		p.pos++
		return nil
	}
	switch c {
	case ' ', '\r':
		p.state = stReason
	case '\n':
		p.state = stLineStart
	default:
		return ErrMalformed
	}
	return nil
}

func (p *ResponseParser) lineStart(c byte) error {
	switch c {
	case '\r':
		p.state = stEndCR
		return nil
	case '\n':
		return p.endHeaders()
	case ' ', '\t', ':':
		return ErrMalformed
	}
	p.nameLen, p.valLen, p.field = 0, 0, fieldOther
	p.state = stName
	return p.headerName(c)
}

func (p *ResponseParser) headerName(c byte) error {
	switch {
	case c == ':':
		p.field = p.fieldOf(p.name[:min(p.nameLen, len(p.name))])
		p.state = stValue
	case c <= ' ' || c >= 0x7f:
		return ErrMalformed
	default:
		if p.nameLen < len(p.name) {
			p.name[p.nameLen] = lower(c)
		}
		p.nameLen++
	}
	return nil
}

func (p *ResponseParser) fieldOf(name []byte) uint8 {
	if p.nameLen > len(p.name) {
		return fieldOther
	}
	switch string(name) {
	case "content-length":
		return fieldContentLength
	case "transfer-encoding":
		return fieldTransferEncoding
	case "connection":
		return fieldConnection
	}
	return fieldOther
}

func (p *ResponseParser) headerValue(c byte) error {
	switch {
	case c == '\n':
		p.state = stLineStart
		return p.endValue()
	case c == '\r':
		return nil
	case (c == ' ' || c == '\t') && p.valLen == 0:
		return nil
	case c < ' ' && c != '\t':
		return ErrMalformed
	}
	if p.field == fieldOther {
		return nil
	}
	if p.valLen < len(p.val) {
		p.val[p.valLen] = lower(c)
	} else if p.field == fieldContentLength {
		return ErrMalformed
	}
	p.valLen++
	return nil
}

// endValue interprets the value of a header the parser cares about.
func (p *ResponseParser) endValue() error {
	v := trimSpace(p.val[:min(p.valLen, len(p.val))])
	switch p.field {
	case fieldContentLength:
		n, ok := parseDecimal(v)
		if !ok || (p.ContentLength >= 0 && p.ContentLength != n) {
			return ErrMalformed
		}
		p.ContentLength = n
	case fieldTransferEncoding:
		p.Chunked = hasSuffix(v, "chunked")
	case fieldConnection:
		if hasToken(v, "close") {
			p.Close = true
		}
		if hasToken(v, "keep-alive") {
			p.keepAlive = true
		}
	}
	return nil
}

// endHeaders picks the body framing once the blank line arrives.
func (p *ResponseParser) endHeaders() error {
	if p.minor == 0 && !p.keepAlive {
		p.Close = true
	}
	switch {
	case p.Status >= 100 && p.Status < 200 && p.Status != 101:
		// An interim response: the real one follows on the same connection.
		body := p.Body
		header := p.HeaderBytes
		*p = ResponseParser{Body: body, ContentLength: -1, HeaderBytes: header, started: true}
	case p.Status == 204 || p.Status == 304:
		p.state = stDone
	case p.Chunked:
		p.state = stChunkSize
	case p.ContentLength == 0:
		p.state = stDone
	case p.ContentLength > 0:
		p.remaining = p.ContentLength
		p.state = stBody
	default:
		p.Close = true
		p.state = stBodyClose
	}
	return nil
}

// chunkStep parses chunk-size lines, chunk terminators and trailers.
func (p *ResponseParser) chunkStep(c byte) error {
	switch p.state {
	case stChunkSize:
		return p.chunkSize(c)
	case stChunkExt:
		if c == '\n' {
			return p.chunkSize(c)
		}
	case stChunkCR:
		switch c {
		case '\r':
		case '\n':
			p.state, p.pos = stChunkSize, 0
		default:
			return ErrMalformed
		}
	case stTrailer:
		switch c {
		case '\r':
		case '\n':
			p.state = stDone
		default:
			p.state = stTrailerLine
		}
	case stTrailerLine:
		if c == '\n' {
			p.state = stTrailer
		}
	}
	return nil
}

func (p *ResponseParser) chunkSize(c byte) error {
	switch {
	case c == '\n':
		if p.pos == 0 {
			return ErrMalformed
		}
		p.pos = 0
		if p.remaining == 0 {
			p.state = stTrailer
		} else {
			p.state = stChunkData
		}
	case c == '\r' && p.state == stChunkSize:
	case c == ';' || c == ' ' || c == '\t':
		p.state = stChunkExt
	case p.state == stChunkExt:
	default:
		d, ok := unhex(c)
		if !ok || p.remaining > (1<<40) {
			return ErrMalformed
		}
		p.remaining = p.remaining<<4 | int64(d)
		p.pos = 1
	}
	return nil
}
