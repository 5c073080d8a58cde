package httpcore_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"flashbench/servers/httpcore"
)

// parsed is the comparable summary of a parse result.
type parsed struct {
	N         int
	Status    int // 0 when accepted, -1 for ErrNeedMore
	Method    httpcore.Method
	MethodStr string
	Target    string
	Path      string
	Query     string
	Major     int
	Minor     int
	KeepAlive bool
	Host      string
	IMS       string
	Length    int64
	Chunked   bool
	Headers   string // "Name=Value|..." in order
}

// summarize parses in into a comparable value.
func summarize(p *httpcore.Parser, in []byte) parsed {
	var req httpcore.Request
	n, err := p.Parse(in, &req)
	return summary(n, err, &req)
}

func summary(n int, err error, req *httpcore.Request) parsed {
	var e *httpcore.Error
	switch {
	case errors.Is(err, httpcore.ErrNeedMore):
		return parsed{N: n, Status: -1}
	case errors.As(err, &e):
		return parsed{N: n, Status: e.Status, MethodStr: e.Reason}
	case err != nil:
		return parsed{N: n, Status: -2, MethodStr: err.Error()}
	}
	var h strings.Builder
	for _, f := range req.Headers {
		fmt.Fprintf(&h, "%s=%s|", f.Name, f.Value)
	}
	return parsed{
		N: n, Method: req.Method, MethodStr: string(req.MethodBytes),
		Target: string(req.Target), Path: string(req.Path), Query: string(req.Query),
		Major: req.Major, Minor: req.Minor, KeepAlive: req.KeepAlive,
		Host: string(req.Host), IMS: string(req.IfModifiedSince),
		Length: req.ContentLength, Chunked: req.Chunked, Headers: h.String(),
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		body string // bytes after the header section, not consumed
		want parsed
	}{
		{"minimal 1.0", "GET /file HTTP/1.0\r\n\r\n", "", parsed{Method: httpcore.MethodGET,
			MethodStr: "GET", Target: "/file", Path: "/file", Major: 1, Length: -1}},
		{"1.1 with host", "HEAD /a/b?x=1&y HTTP/1.1\r\nHost: example.com\r\n\r\n", "", parsed{Method: httpcore.MethodHEAD, MethodStr: "HEAD", Target: "/a/b?x=1&y", Path: "/a/b",
			Query: "x=1&y", Major: 1, Minor: 1, KeepAlive: true, Host: "example.com",
			Length: -1, Headers: "Host=example.com|"}},
		{"bare lf endings", "GET / HTTP/1.1\nHost: h\n\n", "", parsed{Method: httpcore.MethodGET,
			MethodStr: "GET", Target: "/", Path: "/", Major: 1, Minor: 1, KeepAlive: true,
			Host: "h", Length: -1, Headers: "Host=h|"}},
		{"ows trimmed", "GET / HTTP/1.1\r\nHost:\t h \t\r\nX-A:  v  w  \r\nX-E:\r\n\r\n", "", parsed{Method: httpcore.MethodGET, MethodStr: "GET", Target: "/", Path: "/", Major: 1,
			Minor: 1, KeepAlive: true, Host: "h", Length: -1, Headers: "Host=h|X-A=v  w|X-E=|"}},
		{"content-length and ims", "POST /p HTTP/1.1\r\nhost: h\r\ncontent-length: 12\r\n" +
			"If-Modified-Since: Sat, 29 Oct 1994 19:43:31 GMT\r\n\r\n", "body", parsed{Method: httpcore.MethodPOST, MethodStr: "POST", Target: "/p", Path: "/p", Major: 1,
			Minor: 1, KeepAlive: true, Host: "h", IMS: "Sat, 29 Oct 1994 19:43:31 GMT", Length: 12,
			Headers: "host=h|content-length=12|If-Modified-Since=Sat, 29 Oct 1994 19:43:31 GMT|"}},
		{"identical content-lengths", "PUT /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n" +
			"Content-Length: 5\r\n\r\n", "", parsed{Method: httpcore.MethodPUT, MethodStr: "PUT",
			Target: "/p", Path: "/p", Major: 1, Minor: 1, KeepAlive: true, Host: "h", Length: 5,
			Headers: "Host=h|Content-Length=5, 5|Content-Length=5|"}},
		{"chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: CHUNKED\r\n\r\n", "", parsed{Method: httpcore.MethodPOST, MethodStr: "POST", Target: "/", Path: "/", Major: 1,
			Minor: 1, KeepAlive: true, Host: "h", Length: -1, Chunked: true,
			Headers: "Host=h|Transfer-Encoding=CHUNKED|"}},
		{"chunked on 1.0 closes", "POST / HTTP/1.0\r\nConnection: keep-alive\r\n" +
			"Transfer-Encoding: chunked\r\n\r\n", "", parsed{Method: httpcore.MethodPOST,
			MethodStr: "POST", Target: "/", Path: "/", Major: 1, Length: -1, Chunked: true,
			Headers: "Connection=keep-alive|Transfer-Encoding=chunked|"}},
		{"absolute form", "GET http://Example.com:8080/a%20b?q HTTP/1.1\r\nHost: other\r\n\r\n", "",
			parsed{Method: httpcore.MethodGET, MethodStr: "GET",
				Target: "http://Example.com:8080/a%20b?q", Path: "/a%20b", Query: "q", Major: 1,
				Minor: 1, KeepAlive: true, Host: "Example.com:8080", Length: -1,
				Headers: "Host=other|"}},
		{"absolute form empty path", "GET HTTPS://h?x HTTP/1.0\r\n\r\n", "", parsed{Method: httpcore.MethodGET, MethodStr: "GET", Target: "HTTPS://h?x", Path: "/",
			Query: "x", Major: 1, Host: "h", Length: -1}},
		{"options star", "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "", parsed{Method: httpcore.MethodOPTIONS, MethodStr: "OPTIONS", Target: "*", Path: "*",
			Major: 1, Minor: 1, KeepAlive: true, Host: "h", Length: -1, Headers: "Host=h|"}},
		{"unknown method", "get / HTTP/1.0\r\n\r\n", "", parsed{Method: httpcore.MethodUnknown,
			MethodStr: "get", Target: "/", Path: "/", Major: 1, Length: -1}},
		{"1.9 served as 1.1", "BREW /pot HTTP/1.9\r\nHost: h\r\n\r\n", "", parsed{Method: httpcore.MethodUnknown, MethodStr: "BREW", Target: "/pot", Path: "/pot",
			Major: 1, Minor: 9, KeepAlive: true, Host: "h", Length: -1, Headers: "Host=h|"}},
		{"empty host on 1.1", "GET / HTTP/1.1\r\nHost:\r\n\r\n", "", parsed{Method: httpcore.MethodGET, MethodStr: "GET", Target: "/", Path: "/", Major: 1,
			Minor: 1, KeepAlive: true, Length: -1, Headers: "Host=|"}},
		{"leading empty lines", "\r\n\n\r\nGET / HTTP/1.0\r\n\r\n", "", parsed{Method: httpcore.MethodGET, MethodStr: "GET", Target: "/", Path: "/", Major: 1,
			Length: -1}},
		{"high bytes in value", "GET /caf%C3%A9 HTTP/1.0\r\nX: \xff\r\n\r\n", "",
			parsed{Method: httpcore.MethodGET, MethodStr: "GET", Target: "/caf%C3%A9",
				Path: "/caf%C3%A9", Major: 1, Length: -1, Headers: "X=\xff|"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p httpcore.Parser
			tt.want.N = len(tt.in)
			if got := summarize(&p, []byte(tt.in+tt.body)); got != tt.want {
				t.Errorf("Parse(%q):\ngot  %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("a", 9000)
	tests := []struct {
		name   string
		in     string
		status int
		reason string
	}{
		{"missing version", "GET /\r\n\r\n", 400, "malformed request line"},
		{"http/0.9", "GET /index.html\r\n", 400, "malformed request line"},
		{"only method", "GET\r\n\r\n", 400, "malformed request line"},
		{"two spaces", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400, "malformed request line"},
		{"leading space", " GET / HTTP/1.0\r\n\r\n", 400, "malformed request line"},
		{"method not a token", "G(T / HTTP/1.0\r\n\r\n", 400, "malformed request line"},
		{"tab separator", "GET\t/ HTTP/1.0\r\n\r\n", 400, "malformed request line"},
		{"space in target", "GET /a b HTTP/1.0\r\n\r\n", 400, "malformed http version"},
		{"trailing space", "GET / HTTP/1.0 \r\n\r\n", 400, "malformed http version"},
		{"version HTTP/1", "GET / HTTP/1\r\n\r\n", 400, "malformed http version"},
		{"version HTTP/1.1.1", "GET / HTTP/1.1.1\r\n\r\n", 400, "malformed http version"},
		{"version lowercase", "GET / http/1.1\r\n\r\n", 400, "malformed http version"},
		{"version letters", "GET / HTTP/a.b\r\n\r\n", 400, "malformed http version"},
		{"version 1.10", "GET / HTTP/1.10\r\n\r\n", 400, "malformed http version"},
		{"version 2.0", "GET / HTTP/2.0\r\n\r\n", 505, "http version not supported"},
		{"version 3.0", "GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505, "http version not supported"},
		{"version 0.9", "GET / HTTP/0.9\r\n\r\n", 505, "http version not supported"},
		{"nul in target", "GET /a\x00b HTTP/1.0\r\n\r\n", 400, "invalid request target"},
		{"del in target", "GET /a\x7f HTTP/1.0\r\n\r\n", 400, "invalid request target"},
		{"relative target", "GET a/b HTTP/1.0\r\n\r\n", 400, "invalid request target"},
		{"authority form", "CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid request target"},
		{"star not options", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400, "invalid request target"},
		{"ftp scheme", "GET ftp://h/ HTTP/1.0\r\n\r\n", 400, "invalid request target"},
		{"empty authority", "GET http:///a HTTP/1.0\r\n\r\n", 400, "invalid request target"},
		{"userinfo", "GET http://u@h/ HTTP/1.0\r\n\r\n", 400, "invalid request target"},
		{"bare cr in request line", "GET /\rx HTTP/1.0\r\n\r\n", 400, "bare cr"},
		{"bare cr ending", "GET / HTTP/1.0\r\rHost: h\r\n\r\n", 400, "bare cr"},
		{"bare cr in header", "GET / HTTP/1.0\r\nX: a\rb\r\n\r\n", 400, "bare cr"},
		{"bare cr empty line", "GET / HTTP/1.0\r\n\r\r\n", 400, "bare cr"},
		{"bare cr before request", "\r\rGET / HTTP/1.0\r\n\r\n", 400, "bare cr"},
		{"bare cr incomplete", "GET / HTTP/1.0\r\nX: a\rb", 400, "bare cr"},
		{"nul in header value", "GET / HTTP/1.0\r\nX: a\x00b\r\n\r\n", 400, "invalid header value"},
		{"esc in header value", "GET / HTTP/1.0\r\nX: \x1b[0m\r\n\r\n", 400, "invalid header value"},
		{"nul in header name", "GET / HTTP/1.0\r\nX\x00: a\r\n\r\n", 400, "invalid header name"},
		{"obs-fold space", "GET / HTTP/1.0\r\nX: a\r\n b\r\n\r\n", 400, "obs-fold"},
		{"obs-fold tab", "GET / HTTP/1.0\r\nX: a\r\n\tb\r\n\r\n", 400, "obs-fold"},
		{"first line folded", "GET / HTTP/1.0\r\n X: a\r\n\r\n", 400, "obs-fold"},
		{"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400, "whitespace before colon"},
		{"tab before colon", "GET / HTTP/1.0\r\nX\t: a\r\n\r\n", 400, "whitespace before colon"},
		{"empty name", "GET / HTTP/1.0\r\n: a\r\n\r\n", 400, "empty header name"},
		{"no colon", "GET / HTTP/1.0\r\nXa\r\n\r\n", 400, "missing colon in header"},
		{"name not a token", "GET / HTTP/1.0\r\nX@Y: a\r\n\r\n", 400, "invalid header name"},
		{"missing host", "GET / HTTP/1.1\r\nX: a\r\n\r\n", 400, "missing host"},
		{"missing host 1.9", "GET / HTTP/1.9\r\n\r\n", 400, "missing host"},
		{"duplicate host", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400, "duplicate host"},
		{"duplicate host 1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400, "duplicate host"},
		{"length letters", "POST / HTTP/1.0\r\nContent-Length: 1a\r\n\r\n", 400, "invalid content-length"},
		{"length empty", "POST / HTTP/1.0\r\nContent-Length:\r\n\r\n", 400, "invalid content-length"},
		{"length sign", "POST / HTTP/1.0\r\nContent-Length: +1\r\n\r\n", 400, "invalid content-length"},
		{"length negative", "POST / HTTP/1.0\r\nContent-Length: -1\r\n\r\n", 400, "invalid content-length"},
		{"length overflow", "POST / HTTP/1.0\r\nContent-Length: 9223372036854775808\r\n\r\n", 400,
			"invalid content-length"},
		{"length list differs", "POST / HTTP/1.0\r\nContent-Length: 1, 2\r\n\r\n", 400, "invalid content-length"},
		{"length empty element", "POST / HTTP/1.0\r\nContent-Length: 1,\r\n\r\n", 400, "invalid content-length"},
		{"lengths differ", "POST / HTTP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400,
			"conflicting content-length"},
		{"length and chunked", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n" +
			"Transfer-Encoding: chunked\r\n\r\n", 400, "content-length with transfer-encoding"},
		{"chunked and length", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n" +
			"Content-Length: 3\r\n\r\n", 400, "content-length with transfer-encoding"},
		{"gzip coding", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
			"unsupported transfer-encoding"},
		{"gzip chunked list", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
			501, "unsupported transfer-encoding"},
		{"chunked twice", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n" +
			"Transfer-Encoding: chunked\r\n\r\n", 501, "unsupported transfer-encoding"},
		{"identity on 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: identity\r\n\r\n", 501,
			"unsupported transfer-encoding"},
		{"body too large", "POST / HTTP/1.0\r\nContent-Length: 1048577\r\n\r\n", 413, "request body too large"},
		{"request line too long", "GET /" + long + " HTTP/1.0\r\n\r\n", 414, "request line too long"},
		{"request line too long incomplete", "GET /" + long, 414, "request line too long"},
		{"header too long", "GET / HTTP/1.0\r\nX: " + long + "\r\n\r\n", 431, "header too large"},
		{"header too long incomplete", "GET / HTTP/1.0\r\nX: " + long, 431, "header too large"},
		{"too many headers", "GET / HTTP/1.0\r\n" + strings.Repeat("X: a\r\n", 101) + "\r\n", 431,
			"too many headers"},
		{"too many headers incomplete", "GET / HTTP/1.0\r\n" + strings.Repeat("X: a\r\n", 100) + "Y", 431,
			"too many headers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p httpcore.Parser
			var req httpcore.Request
			n, err := p.Parse([]byte(tt.in), &req)
			var e *httpcore.Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q): got n=%d err=%v, want *Error %d", tt.in, n, err, tt.status)
			}
			if e.Status != tt.status || e.Reason != tt.reason || n != 0 {
				t.Errorf("Parse(%q): got %d %q n=%d, want %d %q n=0", tt.in, e.Status, e.Reason, n,
					tt.status, tt.reason)
			}
		})
	}
}

func TestParseKeepAlive(t *testing.T) {
	tests := []struct {
		version    string
		connection string // "" for no Connection field
		want       bool
	}{
		{"1.0", "", false},
		{"1.0", "keep-alive", true},
		{"1.0", "Keep-Alive", true},
		{"1.0", "close", false},
		{"1.0", "upgrade, KEEP-ALIVE", true},
		{"1.0", "keep-alive, close", false},
		{"1.0", "keep-alived", false},
		{"1.1", "", true},
		{"1.1", "close", false},
		{"1.1", "CLOSE", false},
		{"1.1", "keep-alive", true},
		{"1.1", " foo ,\tclose\t", false},
		{"1.1", "closed", true},
		{"1.1", ",,", true},
		{"1.2", "", true},
		{"1.2", "close", false},
	}
	for _, tt := range tests {
		t.Run(tt.version+"/"+tt.connection, func(t *testing.T) {
			in := "GET / HTTP/" + tt.version + "\r\nHost: h\r\n"
			if tt.connection != "" {
				in += "Connection: " + tt.connection + "\r\n"
			}
			in += "\r\n"
			var p httpcore.Parser
			var req httpcore.Request
			if _, err := p.Parse([]byte(in), &req); err != nil {
				t.Fatalf("Parse(%q): %v", in, err)
			}
			if req.KeepAlive != tt.want {
				t.Errorf("Parse(%q): got KeepAlive %v, want %v", in, req.KeepAlive, tt.want)
			}
		})
	}
	t.Run("two connection fields", func(t *testing.T) {
		in := "GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"
		var p httpcore.Parser
		got := summarize(&p, []byte(in))
		if got.Status != 0 || got.KeepAlive {
			t.Errorf("Parse(%q): got status %d KeepAlive %v, want 0 false", in, got.Status, got.KeepAlive)
		}
	})
}
