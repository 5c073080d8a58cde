package httpcore

import (
	"strconv"
	"time"
)

// Respond builds the response to a parsed request: GET and HEAD of a file
// beneath the root; 413 for a body beyond Limits.MaxBody, 501 for an
// unknown method, 405 for any other method (files are read-only). A
// chunked request body cannot be skipped, so its connection closes; a
// Content-Length body is skipped by the connection loop. p is released
// first, so a Plan can be passed back in request after request.
func (c *Core) Respond(req *Request, p *Plan) {
	p.Release()
	if status := c.Refuse(req); status != 0 {
		c.RespondError(status, req, p)
		return
	}
	f, ok := c.CachedFile(req.Path)
	if !ok {
		var err *Error
		if f, err = c.Resolve(req.Path); err != nil {
			c.RespondError(err.Status, req, p)
			return
		}
	}
	c.PlanFile(req, f, p)
}

// Refuse returns the status that refuses req before any file is looked
// at, or 0: 413 for a body beyond Limits.MaxBody, 501 for an unknown
// method, 405 for any method but GET and HEAD. It does no I/O, so an
// event loop answers refusals inline.
func (c *Core) Refuse(req *Request) int {
	switch {
	case req.ContentLength > c.cfg.Limits.MaxBody:
		return 413
	case req.Method == MethodUnknown:
		return 501
	case req.Method != MethodGET && req.Method != MethodHEAD:
		return 405
	}
	return 0
}

// CachedFile looks the request path up in the pathname cache only, with
// no system call: it returns false when the path is absent, malformed,
// or due for revalidation (Resolve then does the blocking work). The
// caller owns one reference on the File (see Resolve).
func (c *Core) CachedFile(path []byte) (*File, bool) { return c.cachedFile(path, false) }

// RevalidatedFile is CachedFile that also revalidates a translation due
// for it, with one stat of its path, as Resolve would: a file the cache
// holds open pins its dentry, its inode and their parents in memory, so
// the stat finds them there and an event loop may make it. It returns
// false when the path is absent or malformed, when its file changed or
// was replaced, and when its lease was broken (Resolve then translates
// afresh). Flash's helpers did the disk work of pathname translation;
// checking a translation they already made is not disk work.
func (c *Core) RevalidatedFile(path []byte) (*File, bool) { return c.cachedFile(path, true) }

func (c *Core) cachedFile(path []byte, revalidate bool) (*File, bool) {
	if c.paths == nil || (c.cfg.AlwaysRevalidate && !revalidate) {
		return nil, false
	}
	var buf [cleanBufSize]byte
	key, err := CleanPath(buf[:0], path)
	if err != nil {
		return nil, false
	}
	f := c.paths.get(key)
	if f == nil {
		return nil, false
	}
	now := c.now().UnixNano()
	if c.cfg.AlwaysRevalidate || now-f.checked.Load() >= int64(c.cfg.Revalidate) {
		if !revalidate || f.Stale() || !c.unchanged(f) {
			f.Release()
			return nil, false
		}
		f.checked.Store(now)
	}
	c.pathHits.Add(1)
	return f, true
}

// Resolve translates a request path to an open file beneath the root:
// decode, normalise, open through os.Root (symlinks may not leave the
// root), fstat, index.html for a directory. A cached translation past
// Revalidate is re-stat'ed and re-translated if the file changed. It may
// block on disk. The caller owns one reference on the File: PlanFile
// takes it over, or the caller calls File.Release.
func (c *Core) Resolve(path []byte) (*File, *Error) {
	var buf [cleanBufSize]byte
	key, err := CleanPath(buf[:0], path)
	if err != nil {
		return nil, err
	}
	now := c.now()
	if c.paths != nil {
		if f := c.paths.get(key); f != nil {
			fresh := !c.cfg.AlwaysRevalidate && now.UnixNano()-f.checked.Load() < int64(c.cfg.Revalidate)
			if !f.Stale() && (fresh || c.unchanged(f)) {
				f.checked.Store(now.UnixNano())
				c.pathHits.Add(1)
				return f, nil
			}
			c.paths.remove(key, f)
			f.Release()
		}
	}
	c.pathMisses.Add(1)
	f, err := c.open(openName(key), now)
	if err != nil {
		return nil, err
	}
	// A file whose lease is busy is not cached: the next request tries
	// again, and gets a lease once the writer is done.
	if c.paths != nil && f.lease != leaseBusy {
		c.paths.put(key, f)
	}
	return f, nil
}

// PlanFile fills p with the response for f, taking over the caller's
// reference on f: 304 when If-Modified-Since is not older than the file,
// the header alone for HEAD, else the header and the body as mapped
// chunks (or as a file range with Config.SendFile, from Config.SendFileMin
// bytes). With Config.Lease a mapped body of a leased file keeps the File
// in p.File, holding its lease, and a file range is planned only for a
// leased file; a body of a file whose lease is busy is answered 503, and
// one of a file that cannot be leased at all is sent as mapped chunks
// (see Config.Lease).
func (c *Core) PlanFile(req *Request, f *File, p *Plan) {
	now := c.now()
	date := c.date.get(now)
	closeConn := !req.KeepAlive || req.Chunked
	p.Close = closeConn
	if notModified(req.IfModifiedSince, f.modTime) {
		p.Status = 304
		p.scratch = c.appendNotModified(p.scratch[:0], date, f, closeConn)
		p.Header = p.scratch
		f.Release()
		return
	}
	p.Status = 200
	p.Header = c.fileHeader(f, date, closeConn, p)
	if req.Method == MethodHEAD || f.id.size == 0 {
		f.Release()
		return
	}
	if f.lease == leaseBusy {
		// Someone has the file open for writing, or is about to truncate
		// it: its pages could change while they are sent.
		f.Release()
		c.RespondError(503, req, p)
		return
	}
	if c.cfg.SendFile && f.id.size >= c.cfg.SendFileMin && f.lease != leaseRefused {
		p.Kind, p.File, p.Offset, p.Length = BodyFile, f, 0, f.id.size
		return
	}
	for i := int64(0); i*c.cfg.ChunkSize < f.id.size; i++ {
		ch, err := c.chunk(f, i)
		if err != nil {
			f.Release()
			c.RespondError(500, req, p)
			return
		}
		p.Chunks = append(p.Chunks, ch)
	}
	if f.lease == leaseHeld {
		p.File = f // its lease holds off a truncation until the Plan is released
	} else {
		f.Release()
	}
	p.Kind, p.Length = BodyMapped, f.id.size
}

// notModified reports whether an If-Modified-Since value is a date not
// older than mtime, at the one-second resolution of HTTP dates.
func notModified(ims []byte, mtime time.Time) bool {
	if len(ims) == 0 {
		return false
	}
	t, ok := ParseHTTPDate(ims)
	return ok && t.Unix() >= mtime.Unix()
}

// fileHeader returns the 200 header for f from the header cache, or built
// into the Plan's scratch buffer when the cache is off.
func (c *Core) fileHeader(f *File, date *dateEntry, closeConn bool, p *Plan) []byte {
	if c.headers == nil {
		p.scratch = c.appendFileHeader(p.scratch[:0], date, f, closeConn)
		return p.scratch
	}
	key := headerKey{id: f.id, close: closeConn}
	build := func() []byte { return c.appendFileHeader(make([]byte, 0, 256), date, f, closeConn) }
	if hdr, ok := c.headers.get(key, date.sec, build); ok {
		c.headerHits.Add(1)
		return hdr
	}
	c.headerMisses.Add(1)
	hdr := build()
	c.headers.put(key, date.sec, hdr)
	return hdr
}

func (c *Core) appendFileHeader(b []byte, date *dateEntry, f *File, closeConn bool) []byte {
	b = c.appendCommon(b, 200, date)
	b = append(b, "Content-Type: "...)
	b = append(b, f.ctype...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, f.id.size, 10)
	b = append(b, "\r\nLast-Modified: "...)
	b = append(b, f.lastMod[:]...)
	b = append(b, "\r\n"...)
	return appendConnection(b, closeConn)
}

func (c *Core) appendNotModified(b []byte, date *dateEntry, f *File, closeConn bool) []byte {
	b = c.appendCommon(b, 304, date)
	b = append(b, "Last-Modified: "...)
	b = append(b, f.lastMod[:]...)
	b = append(b, "\r\n"...)
	return appendConnection(b, closeConn)
}

// appendCommon appends the status line, Date and Server. The status line
// says HTTP/1.1 whatever the request's version, as RFC 9110 2.5 asks.
func (c *Core) appendCommon(b []byte, status int, date *dateEntry) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	b = append(b, StatusText(status)...)
	b = append(b, "\r\nDate: "...)
	b = append(b, date.b[:]...)
	b = append(b, "\r\nServer: "...)
	b = append(b, c.cfg.ServerName...)
	return append(b, "\r\n"...)
}

// appendConnection ends the header with the Connection field: HTTP/1.0
// keep-alive clients need the keep-alive token back.
func appendConnection(b []byte, closeConn bool) []byte {
	if closeConn {
		return append(b, "Connection: close\r\n\r\n"...)
	}
	return append(b, "Connection: keep-alive\r\n\r\n"...)
}

// Triage is the first step of an architecture that must not wait for the
// disk on its loop (AMPED, uring): it releases p's previous response, then
// answers at once what needs no file (a refusal, a path that does not
// clean: done is true), returns the file of a translation the pathname
// cache holds and still trusts (f, to plan), or else the cleaned path,
// written into buf, whose translation must first be brought into memory
// off the loop.
func (c *Core) Triage(req *Request, p *Plan, buf []byte) (f *File, clean []byte, done bool) {
	p.Release()
	if status := c.Refuse(req); status != 0 {
		c.RespondError(status, req, p)
		return nil, nil, true
	}
	if f, ok := c.RevalidatedFile(req.Path); ok {
		return f, nil, false
	}
	clean, e := CleanPath(buf, req.Path)
	if e != nil {
		c.RespondError(e.Status, req, p)
		return nil, nil, true
	}
	return nil, clean, false
}
