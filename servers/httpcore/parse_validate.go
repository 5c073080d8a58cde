package httpcore

import (
	"bytes"
	"math"
)

// tokenChars marks the tchar bytes of RFC 9110 5.6.2, the characters of
// methods and field names.
var tokenChars = alnumAnd("!#$%&'*+-.^_`|~")

// alnumAnd returns a byte table marking the ASCII letters and digits and
// the bytes of extra.
func alnumAnd(extra string) (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for i := range len(extra) {
		t[extra[i]] = true
	}
	return t
}

// rootPath is the Path of an absolute-form target with an empty path
// ("http://host"), which RFC 3986 6.2.3 makes equivalent to "/". It is the
// only Path that does not alias the parsed buffer; do not modify it.
var rootPath = []byte("/")

// isToken reports whether b is a non-empty token.
func isToken(b []byte) bool {
	for _, c := range b {
		if !tokenChars[c] {
			return false
		}
	}
	return len(b) > 0
}

// parseRequestLine parses `method SP request-target SP HTTP-version` (the
// line without its ending) into req.
func parseRequestLine(line []byte, req *Request) error {
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 || !isToken(line[:sp]) {
		return errMalformedRequestLine
	}
	method, rest := line[:sp], line[sp+1:]
	sp = bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		// No version (HTTP/0.9 style), or an empty target from two spaces.
		return errMalformedRequestLine
	}
	target, version := rest[:sp], rest[sp+1:]
	if err := parseVersion(version, req); err != nil {
		return err
	}
	req.MethodBytes = method
	req.Method = ParseMethod(method)
	return parseTarget(target, req)
}

// parseVersion parses HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112
// 2.3). Versions 1.x with x > 1 keep their minor number and are served as
// HTTP/1.1; major versions other than 1 are refused with 505.
func parseVersion(v []byte, req *Request) error {
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' ||
		!isDigit(v[5]) || !isDigit(v[7]) {
		return errMalformedVersion
	}
	req.Major, req.Minor = int(v[5]-'0'), int(v[7]-'0')
	if req.Major != 1 {
		return errVersionNotSupported
	}
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseTarget accepts the origin-form ("/path?query"), the absolute-form
// ("http://host/path?query", whose authority becomes req.Host) and "*" for
// OPTIONS (RFC 9112 3.2), made of targetChars only. The authority-form
// (CONNECT host:port) is not served: flashbench is an origin server, not a
// proxy.
func parseTarget(t []byte, req *Request) error {
	for _, c := range t {
		if !targetChars[c] {
			return errInvalidTarget
		}
	}
	req.Target = t
	switch {
	case t[0] == '/':
		splitQuery(t, req)
		return nil
	case len(t) == 1 && t[0] == '*':
		if req.Method != MethodOPTIONS {
			return errInvalidTarget
		}
		req.Path = t
		return nil
	}
	rest, ok := cutScheme(t)
	if !ok {
		return errInvalidTarget
	}
	end := bytes.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	if len(authority) == 0 || authority[0] == ':' || !validHost(authority) {
		// RFC 9110 4.2.1 and 4.2.4: an http URI has a non-empty host and
		// no userinfo.
		return errInvalidTarget
	}
	req.Host = authority
	rest = rest[end:]
	splitQuery(rest, req)
	if len(req.Path) == 0 {
		req.Path = rootPath
	}
	return nil
}

// cutScheme strips a case-insensitive "http://" or "https://" prefix.
func cutScheme(t []byte) (rest []byte, ok bool) {
	if len(t) >= 7 && equalFold(t[:7], "http://") {
		return t[7:], true
	}
	if len(t) >= 8 && equalFold(t[:8], "https://") {
		return t[8:], true
	}
	return nil, false
}

// splitQuery sets req.Path and req.Query from t ("path?query").
func splitQuery(t []byte, req *Request) {
	if q := bytes.IndexByte(t, '?'); q >= 0 {
		req.Path, req.Query = t[:q], t[q+1:]
		return
	}
	req.Path = t
}

// equalFold reports whether b equals lower, a lowercase ASCII string,
// ignoring ASCII case in b.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// trimOWS removes leading and trailing SP and HTAB.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// headerState is what the fields seen so far imply, for the checks that
// span several fields.
type headerState struct {
	host       bool // a Host field was seen
	length     bool // a Content-Length field was seen
	codings    int  // Transfer-Encoding fields seen
	chunked    bool // the (first) Transfer-Encoding is exactly "chunked"
	close      bool // Connection has the "close" token
	keepAlive  bool // Connection has the "keep-alive" token
	ifModSince bool // an If-Modified-Since field was seen
}

// field parses one field line (without its ending) into req.
func (hs *headerState) field(line []byte, req *Request) error {
	if line[0] == ' ' || line[0] == '\t' {
		return errObsFold
	}
	colon := bytes.IndexByte(line, ':')
	switch {
	case colon < 0:
		return errMissingColon
	case colon == 0:
		return errEmptyHeaderName
	}
	name := line[:colon]
	if c := name[len(name)-1]; c == ' ' || c == '\t' {
		return errSpaceBeforeColon
	}
	if !isToken(name) {
		return errInvalidHeaderName
	}
	value := trimOWS(line[colon+1:])
	for _, c := range value {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return errInvalidHeaderValue
		}
	}
	req.Headers = append(req.Headers, Header{Name: name, Value: value})
	return hs.special(name, value, req)
}

// special records the fields the core acts on.
func (hs *headerState) special(name, value []byte, req *Request) error {
	switch {
	case equalFold(name, "host"):
		if hs.host {
			return errDuplicateHost
		}
		if !validHost(value) {
			// RFC 9112 3.2: MUST 400, even when an absolute-form
			// target makes the field ignored.
			return errInvalidHost
		}
		hs.host = true
		if req.Host == nil { // an absolute-form authority takes precedence
			req.Host = value
		}
	case equalFold(name, "connection"):
		hs.connection(value)
	case equalFold(name, "content-length"):
		n, ok := parseContentLength(value)
		if !ok {
			return errInvalidLength
		}
		if hs.length && n != req.ContentLength {
			return errConflictingLength
		}
		hs.length, req.ContentLength = true, n
	case equalFold(name, "transfer-encoding"):
		hs.codings++
		if hs.codings == 1 {
			hs.chunked = equalFold(value, "chunked")
		}
	case equalFold(name, "if-modified-since"):
		if !hs.ifModSince {
			hs.ifModSince, req.IfModifiedSince = true, value
		}
	}
	return nil
}

// connection records the close and keep-alive tokens of a Connection list.
func (hs *headerState) connection(v []byte) {
	for len(v) > 0 {
		var tok []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			tok, v = v[:i], v[i+1:]
		} else {
			tok, v = v, nil
		}
		tok = trimOWS(tok)
		switch {
		case equalFold(tok, "close"):
			hs.close = true
		case equalFold(tok, "keep-alive"):
			hs.keepAlive = true
		}
	}
}

// parseContentLength parses a Content-Length value: 1*DIGIT, or a comma
// list of identical values (RFC 9112 6.3 allows a recipient to accept it).
func parseContentLength(v []byte) (int64, bool) {
	n := int64(-1)
	for {
		elem := v
		i := bytes.IndexByte(v, ',')
		if i >= 0 {
			elem = v[:i]
		}
		m, ok := parseDigits(trimOWS(elem))
		if !ok || (n >= 0 && m != n) {
			return 0, false
		}
		n = m
		if i < 0 {
			return n, true
		}
		v = v[i+1:]
	}
}

// parseDigits parses 1*DIGIT into a non-negative int64 without overflow.
func parseDigits(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		d := int64(c - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// finish applies the checks that need the whole header section and
// decides whether the connection persists.
func (hs *headerState) finish(req *Request, lim *Limits) error {
	http11 := req.Minor >= 1 // Major is 1 here
	if http11 && !hs.host {
		return errMissingHost
	}
	if hs.codings > 0 {
		if hs.length {
			// RFC 9112 6.3: a smuggling attempt; the framing is unknowable.
			return errLengthAndChunked
		}
		if hs.codings > 1 || !hs.chunked {
			return errUnsupportedCoding
		}
		req.Chunked = true
	}
	if req.ContentLength > lim.MaxBody {
		return errBodyTooLarge
	}
	switch {
	case hs.close:
		req.KeepAlive = false
	case http11:
		req.KeepAlive = true
	default:
		req.KeepAlive = hs.keepAlive
	}
	if req.Chunked && !http11 {
		// RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 means faulty
		// framing; close after this response.
		req.KeepAlive = false
	}
	return nil
}
