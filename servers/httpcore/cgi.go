package httpcore

import (
	"bytes"
	"strconv"
)

// CGIName reports whether a request path lies under Config.CGIPrefix and,
// if so, the program it names: the one path segment after the prefix.
// The name must be a plain file name (letters, digits, '.', '-', '_'; not
// "." or ".."); anything else (a further '/', a percent-escape, an empty
// name) gives isCGI true with a nil name, which the caller answers 404, so
// that no request can reach a program outside the CGI directory. It does
// no I/O.
func (c *Core) CGIName(path []byte) (name []byte, isCGI bool) {
	prefix := c.cfg.CGIPrefix
	if len(path) < len(prefix) || string(path[:len(prefix)]) != prefix {
		if len(path) == len(prefix)-1 && string(path) == prefix[:len(prefix)-1] {
			return nil, true // "/cgi-bin" itself
		}
		return nil, false
	}
	name = path[len(prefix):]
	if !ValidProgramName(name) {
		return nil, true
	}
	return name, true
}

// ValidProgramName reports whether name is a plain file name a CGI
// program may have.
func ValidProgramName(name []byte) bool {
	if len(name) == 0 || len(name) > 255 || bytes.Equal(name, []byte(".")) || bytes.Equal(name, []byte("..")) {
		return false
	}
	for _, ch := range name {
		ok := 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' ||
			ch == '.' || ch == '-' || ch == '_'
		if !ok {
			return false
		}
	}
	return true
}

// PlanDynamic fills p with the header of a generated response (a CGI
// program's): the status line, Date, Server, Content-Type, Content-Length
// and Connection, built exactly as for files so that every architecture
// sends the same bytes. The caller attaches the body (p.Kind, p.Bytes or
// p.File, p.Offset; p.Length is set to length) unless the request is
// HEAD; p.Kind is BodyNone on return. p is released first.
func (c *Core) PlanDynamic(req *Request, status int, contentType []byte, length int64, p *Plan) {
	p.Release()
	closeConn := req == nil || !req.KeepAlive || req.Chunked || closeStatus(status)
	b := c.appendCommon(p.scratch[:0], status, c.date.get(c.now()))
	b = append(b, "Content-Type: "...)
	b = append(b, contentType...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, length, 10)
	b = append(b, "\r\n"...)
	p.scratch = appendConnection(b, closeConn)
	p.Status, p.Header, p.Close, p.Length = status, p.scratch, closeConn, length
}

// NewBufferFile returns a File for size bytes of a descriptor that is not
// a file of the document root (a shared-memory buffer a CGI program
// wrote). A Plan holding it, as BodyFile or beside a BodyBytes slice of
// the same buffer's mapping, keeps the buffer from being reused: the File
// holds one reference, and when the last is released (the sender is done
// with the bytes) release runs instead of a close; the caller owns fd.
func NewBufferFile(fd int, size int64, release func()) *File {
	f := &File{fd: fd, id: fileID{size: size}, onRelease: release}
	f.refs.Store(1)
	return f
}

// CGICheck returns the status that refuses a CGI request before any
// program runs, or 0 when the request may go to program name (as returned
// by CGIName): 404 for a nil name, 501 for an unknown method, 405 for a
// method other than GET, HEAD and POST, 411 for a chunked body (bodies
// are passed whole, with their length), 413 for a body beyond
// Limits.MaxBody.
func (c *Core) CGICheck(req *Request, name []byte) int {
	switch {
	case name == nil:
		return 404
	case req.Method == MethodUnknown:
		return 501
	case req.Method != MethodGET && req.Method != MethodHEAD && req.Method != MethodPOST:
		return 405
	case req.Chunked:
		return 411
	case req.ContentLength > c.cfg.Limits.MaxBody:
		return 413
	}
	return 0
}
