package httpcore_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"flashbench/servers/httpcore"
)

// diffRequests are valid requests on which httpcore, net/http and fasthttp
// must agree.
var diffRequests = []string{
	"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
	"GET /file HTTP/1.0\r\n\r\n",
	"GET /dir00001/class1_4 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	"GET /index.html HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n",
	"HEAD /a/b/c.txt HTTP/1.1\r\nHost: h:8080\r\n\r\n",
	"POST /cgi-bin/app?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\n",
	"PUT /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
	"DELETE /item/42 HTTP/1.1\r\nHost: h\r\n\r\n",
	"OPTIONS /any HTTP/1.1\r\nHost: h\r\n\r\n",
	"TRACE /t HTTP/1.1\r\nHost: h\r\nMax-Forwards: 3\r\n\r\n",
	"PATCH /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n",
	"PROPFIND /dav/ HTTP/1.1\r\nHost: h\r\nDepth: 1\r\n\r\n",
	"GET /search?q=a%20b&lang=en&empty= HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /caf%C3%A9/%7Euser/file%2Fname HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /a;b=c/d?e=f;g HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /?x HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /x? HTTP/1.0\r\n\r\n",
	"GET //double//slash HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET /files/../etc/passwd HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET / HTTP/1.1\r\nhOsT: MixedCase.Example\r\nuser-agent: lower\r\nACCEPT: */*\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nAccept: text/html\r\nAccept: application/json\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nX-Spaces:   padded value   \r\nX-Tab:\tv\t\r\nX-Empty:\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade, CLOSE\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n",
	"GET / HTTP/1.9\r\nHost: h\r\n\r\n",
	"GET /lf HTTP/1.1\nHost: h\nX-A: b\n\n",
	"GET / HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: Sat, 29 Oct 1994 19:43:31 GMT\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n",
	"POST /chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
	"GET http://example.com/abs?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
	"\r\nGET /after-empty-line HTTP/1.1\r\nHost: h\r\n\r\n",
}

func TestDifferential(t *testing.T) {
	for _, in := range diffRequests {
		t.Run(strings.SplitN(strings.TrimSpace(in), "\r\n", 2)[0], func(t *testing.T) {
			var p httpcore.Parser
			var req httpcore.Request
			n, err := p.Parse([]byte(in), &req)
			if err != nil || n != len(in) {
				t.Fatalf("Parse(%q): got n=%d err=%v, want n=%d nil", in, n, err, len(in))
			}
			if err := compareNetHTTP([]byte(in), &req); err != "" {
				t.Errorf("net/http: %s", err)
			}
			if err := compareFastHTTP([]byte(in), &req); err != "" {
				t.Errorf("fasthttp: %s", err)
			}
		})
	}
}

// mismatch formats a disagreement, or returns "" when got equals want.
func mismatch(what string, got, want any) string {
	if got == want {
		return ""
	}
	return fmt.Sprintf("%s: got %q, want %q", what, fmt.Sprint(got), fmt.Sprint(want))
}

// proto returns the version of req as "HTTP/x.y".
func proto(req *httpcore.Request) string {
	return fmt.Sprintf("HTTP/%d.%d", req.Major, req.Minor)
}

// compareNetHTTP reads buf (one request accepted by httpcore as req) with
// net/http and returns the first disagreement, or "" when they agree or
// net/http refuses the request. Known, legitimate differences:
//   - net/http refuses what httpcore leaves to later layers or accepts on
//     purpose (invalid percent-escapes in the target, a Content-Length comma
//     list): nothing is comparable then.
//   - net/http removes Host, Transfer-Encoding and (on close) Connection
//     from Header, so those fields are compared through Host, Chunked and
//     Close instead.
//   - net/http ignores Transfer-Encoding on HTTP/1.0 (Go issue 12785) and
//     keeps the connection open; httpcore reads the chunked body and closes
//     (RFC 9112 6.1), so keep-alive is not compared then.
//   - net/http decodes percent-escapes in an absolute-form host.
func compareNetHTTP(buf []byte, req *httpcore.Request) string {
	hr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(buf)))
	if err != nil {
		return ""
	}
	if s := mismatch("method", hr.Method, string(req.MethodBytes)); s != "" {
		return s
	}
	if s := mismatch("request-uri", hr.RequestURI, string(req.Target)); s != "" {
		return s
	}
	if hr.ProtoMajor != req.Major || hr.ProtoMinor != req.Minor {
		return mismatch("version", hr.Proto, proto(req))
	}
	if !(req.Chunked && req.Minor == 0) {
		if s := mismatch("keep-alive", !hr.Close, req.KeepAlive); s != "" {
			return s
		}
	}
	if bytes.IndexByte(req.Host, '%') < 0 {
		if s := mismatch("host", hr.Host, string(req.Host)); s != "" {
			return s
		}
	}
	if req.ContentLength >= 0 {
		if s := mismatch("content-length", hr.ContentLength, req.ContentLength); s != "" {
			return s
		}
	}
	for _, f := range req.Headers {
		key := textproto.CanonicalMIMEHeaderKey(string(f.Name))
		switch key {
		case "Host", "Transfer-Encoding", "Connection":
			continue
		}
		want := headerValues(req, f.Name)
		if s := mismatch("header "+key, strings.Join(hr.Header[key], "|"), want); s != "" {
			return s
		}
	}
	return ""
}

// compareFastHTTP reads buf with fasthttp.RequestHeader.Read and returns
// the first disagreement, or "" when they agree. fasthttp does not accept
// bare LF line endings (RFC 9112 2.2 lets a recipient accept them;
// httpcore does), so such requests are not compared. fasthttp keeps every
// field, Host included, but folds Connection: close into ConnectionClose
// and Transfer-Encoding into its own state, so those are compared through
// keep-alive and Chunked; it also refuses a Content-Length comma list.
func compareFastHTTP(buf []byte, req *httpcore.Request) string {
	if bareLF(buf) {
		return ""
	}
	var h fasthttp.RequestHeader
	if err := h.Read(bufio.NewReader(bytes.NewReader(buf))); err != nil {
		return "refused: " + err.Error()
	}
	if s := mismatch("method", string(h.Method()), string(req.MethodBytes)); s != "" {
		return s
	}
	if s := mismatch("request-uri", string(h.RequestURI()), string(req.Target)); s != "" {
		return s
	}
	if s := mismatch("protocol", string(h.Protocol()), proto(req)); s != "" {
		return s
	}
	// fasthttp treats any version but HTTP/1.1 as HTTP/1.0 for keep-alive.
	if req.Minor <= 1 {
		if s := mismatch("keep-alive", !h.ConnectionClose(), req.KeepAlive); s != "" {
			return s
		}
	}
	if s := mismatch("chunked", h.ContentLength() == -1, req.Chunked); s != "" {
		return s
	}
	for _, f := range req.Headers {
		switch strings.ToLower(string(f.Name)) {
		case "transfer-encoding", "connection", "cookie":
			// Folded into Chunked and keep-alive; Cookie is split into pairs.
			continue
		}
		want := headerValues(req, f.Name)
		got := string(h.PeekBytes(f.Name))
		if strings.Contains(want, "|") {
			// A repeated field: fasthttp keeps every value of an ordinary
			// field, but only the last of Content-Type and User-Agent.
			var vals []string
			for k, v := range h.All() {
				if bytes.EqualFold(k, f.Name) {
					vals = append(vals, string(v))
				}
			}
			got = strings.Join(vals, "|")
		}
		if s := mismatch("header "+string(f.Name), got, want); s != "" {
			return s
		}
	}
	return ""
}

// headerValues joins with "|" the values of every field named like name.
func headerValues(req *httpcore.Request, name []byte) string {
	var vals []string
	for _, f := range req.Headers {
		if bytes.EqualFold(f.Name, name) {
			vals = append(vals, string(f.Value))
		}
	}
	return strings.Join(vals, "|")
}

// bareLF reports whether some line of buf ends in LF without CR.
func bareLF(buf []byte) bool {
	for i, c := range buf {
		if c == '\n' && (i == 0 || buf[i-1] != '\r') {
			return true
		}
	}
	return false
}
