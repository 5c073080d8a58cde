package httpcore

import "strconv"

// statusText holds the reason phrases the core answers with.
var statusText = map[int]string{
	200: "OK",
	304: "Not Modified",
	400: "Bad Request",
	403: "Forbidden",
	404: "Not Found",
	405: "Method Not Allowed",
	408: "Request Timeout",
	411: "Length Required",
	413: "Content Too Large",
	414: "URI Too Long",
	431: "Request Header Fields Too Large",
	500: "Internal Server Error",
	501: "Not Implemented",
	502: "Bad Gateway",
	503: "Service Unavailable",
	504: "Gateway Timeout",
	505: "HTTP Version Not Supported",
}

// StatusText returns the reason phrase for a status the core sends, or
// "Unknown" for any other.
func StatusText(status int) string {
	if s, ok := statusText[status]; ok {
		return s
	}
	return "Unknown"
}

// errorBodies are the error pages, built once: they are immutable and
// shared by every Plan.
var errorBodies = func() map[int][]byte {
	m := make(map[int][]byte, len(statusText))
	for code := range statusText {
		if code >= 400 {
			m[code] = errorBody(code)
		}
	}
	return m
}()

func errorBody(status int) []byte {
	t := strconv.Itoa(status) + " " + StatusText(status)
	return []byte("<html><head><title>" + t + "</title></head><body><h1>" + t + "</h1></body></html>\n")
}

// closeStatus reports whether a status means the request stream can no
// longer be trusted, so the connection must close.
func closeStatus(status int) bool {
	switch status {
	case 400, 408, 413, 414, 431, 501, 505:
		return true
	}
	return false
}

// RespondError fills p with an error response: a small HTML page (none for
// HEAD), and "Allow: GET, HEAD" for 405. The connection closes when req is
// nil (a parse error), when the client did not ask to keep it, when a
// chunked body cannot be skipped, or for the statuses after which the
// stream cannot be trusted (400, 408, 413, 414, 431, 501, 505).
func (c *Core) RespondError(status int, req *Request, p *Plan) {
	p.Release()
	body, ok := errorBodies[status]
	if !ok {
		body = errorBody(status)
	}
	closeConn := req == nil || !req.KeepAlive || req.Chunked || closeStatus(status)
	b := c.appendCommon(p.scratch[:0], status, c.date.get(c.now()))
	b = append(b, "Content-Type: text/html; charset=utf-8\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n"...)
	if status == 405 {
		b = append(b, "Allow: GET, HEAD\r\n"...)
	}
	p.scratch = appendConnection(b, closeConn)
	p.Status, p.Header, p.Close = status, p.scratch, closeConn
	if req != nil && req.Method == MethodHEAD {
		return
	}
	p.Kind, p.Bytes, p.Length = BodyBytes, body, int64(len(body))
}
