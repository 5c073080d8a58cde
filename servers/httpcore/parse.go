package httpcore

import (
	"bytes"
	"errors"
)

// ErrNeedMore is returned by Parse when buf holds only part of a request.
var ErrNeedMore = errors.New("httpcore: need more data")

// Parse errors. They are shared values so that refusing a request does not
// allocate either; callers must not modify them.
var (
	errBareCR               = &Error{Status: 400, Reason: "bare cr"}
	errMalformedRequestLine = &Error{Status: 400, Reason: "malformed request line"}
	errMalformedVersion     = &Error{Status: 400, Reason: "malformed http version"}
	errVersionNotSupported  = &Error{Status: 505, Reason: "http version not supported"}
	errInvalidTarget        = &Error{Status: 400, Reason: "invalid request target"}
	errRequestLineTooLong   = &Error{Status: 414, Reason: "request line too long"}
	errHeaderTooLarge       = &Error{Status: 431, Reason: "header too large"}
	errTooManyHeaders       = &Error{Status: 431, Reason: "too many headers"}
	errObsFold              = &Error{Status: 400, Reason: "obs-fold"}
	errMissingColon         = &Error{Status: 400, Reason: "missing colon in header"}
	errEmptyHeaderName      = &Error{Status: 400, Reason: "empty header name"}
	errSpaceBeforeColon     = &Error{Status: 400, Reason: "whitespace before colon"}
	errInvalidHeaderName    = &Error{Status: 400, Reason: "invalid header name"}
	errInvalidHeaderValue   = &Error{Status: 400, Reason: "invalid header value"}
	errMissingHost          = &Error{Status: 400, Reason: "missing host"}
	errDuplicateHost        = &Error{Status: 400, Reason: "duplicate host"}
	errInvalidHost          = &Error{Status: 400, Reason: "invalid host"}
	errInvalidLength        = &Error{Status: 400, Reason: "invalid content-length"}
	errConflictingLength    = &Error{Status: 400, Reason: "conflicting content-length"}
	errLengthAndChunked     = &Error{Status: 400, Reason: "content-length with transfer-encoding"}
	errUnsupportedCoding    = &Error{Status: 501, Reason: "unsupported transfer-encoding"}
	errBodyTooLarge         = &Error{Status: 413, Reason: "request body too large"}
)

// Parser parses requests; it holds reusable storage, one per connection
// (not safe for concurrent use). Header fields are stored in the backing
// array of the Request given to Parse, so two Requests parsed by the same
// Parser never share storage (a pipelining server may hold several).
type Parser struct {
	// Limits bounds the request; a zero field means its DefaultLimits value.
	Limits Limits
}

// Reset clears r for the next request, keeping the backing array of
// r.Headers. ContentLength becomes -1 (absent).
func (r *Request) Reset() {
	h := r.Headers
	clear(h) // drop references to the previous request's buffer
	*r = Request{Headers: h[:0], ContentLength: -1}
}

// Parse parses the first request in buf into req (which it Resets). It
// returns the number of bytes consumed: leading empty lines (bare CRLF or
// LF before a request, RFC 9112 2.2) plus the request line and header
// section including the final empty line. NOT the body.
//
// err is nil, ErrNeedMore (n == 0, or n == number of leading empty-line
// bytes that may be discarded), or *Error with the status to answer (n is 0
// and the connection must then be closed). The result depends only on the
// bytes, not on how they were split between calls: a limit is enforced as
// soon as it is passed, and other errors are reported once their line is
// complete. After ErrNeedMore or an error, req holds a partial request.
func (p *Parser) Parse(buf []byte, req *Request) (n int, err error) {
	req.Reset()
	start, err := skipEmptyLines(buf)
	if err != nil {
		return start, err
	}
	lim := p.limits()
	line, pos, err := scanLine(buf, start, lim.MaxRequestLine, errRequestLineTooLong)
	if err != nil {
		return needMoreOr(start, err)
	}
	if err := parseRequestLine(line, req); err != nil {
		return 0, err
	}
	var hs headerState
	for {
		rest := buf[pos:]
		if len(rest) == 0 || (len(rest) == 1 && rest[0] == '\r') {
			return start, ErrNeedMore
		}
		if rest[0] == '\n' {
			pos++
			break
		}
		if rest[0] == '\r' && rest[1] == '\n' {
			pos += 2
			break
		}
		// A field line has started: the count limit is passed already.
		if len(req.Headers) >= lim.MaxHeaders {
			return 0, errTooManyHeaders
		}
		line, next, err := scanLine(buf, pos, lim.MaxHeaderLine, errHeaderTooLarge)
		if err != nil {
			return needMoreOr(start, err)
		}
		if err := hs.field(line, req); err != nil {
			return 0, err
		}
		pos = next
	}
	if err := hs.finish(req, &lim); err != nil {
		return 0, err
	}
	return pos, nil
}

// limits returns p.Limits with zero (or negative) fields set to defaults.
func (p *Parser) limits() Limits { return p.Limits.WithDefaults() }

// needMoreOr returns (start, ErrNeedMore) for an incomplete request and
// (0, err) for a refused one.
func needMoreOr(start int, err error) (int, error) {
	if err == ErrNeedMore {
		return start, err
	}
	return 0, err
}

// skipEmptyLines returns the offset of the first byte after the empty lines
// (CRLF or LF) that may precede a request line. It returns ErrNeedMore with
// that offset when nothing else is buffered yet.
func skipEmptyLines(buf []byte) (int, error) {
	i := 0
	for i < len(buf) {
		switch buf[i] {
		case '\n':
			i++
		case '\r':
			if i+1 == len(buf) {
				return i, ErrNeedMore
			}
			if buf[i+1] != '\n' {
				return 0, errBareCR
			}
			i += 2
		default:
			return i, nil
		}
	}
	return i, ErrNeedMore
}

// scanLine finds the line that starts at buf[pos]. It returns the line
// without its CRLF or LF ending and the offset of the next line. A CR
// followed by anything but LF is a bare CR. The first problem in the line
// wins, so that the answer is the same however the bytes were split: a bare
// CR at or before max gives errBareCR; more than max content bytes give
// tooLong, even while the line is incomplete; otherwise an incomplete line
// gives ErrNeedMore.
func scanLine(buf []byte, pos, max int, tooLong *Error) (line []byte, next int, err error) {
	rest := buf[pos:]
	lf := bytes.IndexByte(rest, '\n')
	win := rest
	if lf >= 0 {
		win = rest[:lf]
	}
	end := len(win)
	if cr := bytes.IndexByte(win, '\r'); cr >= 0 {
		if cr < len(win)-1 {
			if cr <= max {
				return nil, 0, errBareCR
			}
			return nil, 0, tooLong
		}
		// The CR ends win: it is the CRLF ending, or the last byte of buf
		// with its LF still to come.
		end = cr
	}
	if end > max {
		return nil, 0, tooLong
	}
	if lf < 0 {
		return nil, 0, ErrNeedMore
	}
	return win[:end], pos + lf + 1, nil
}
