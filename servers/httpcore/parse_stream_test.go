package httpcore_test

import (
	"errors"
	"strings"
	"testing"

	"flashbench/servers/httpcore"
)

// validRequests are complete requests used by the stream tests.
var validRequests = []string{
	"GET /file HTTP/1.0\r\n\r\n",
	"GET /index.html?a=b HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: flashbench\r\n" +
		"Accept: */*\r\nConnection: keep-alive\r\n\r\n",
	"POST /cgi HTTP/1.1\nHost: h\nContent-Length: 4\n\n",
	"\r\n\r\nHEAD http://h/x HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: Sat, 29 Oct 1994 19:43:31 GMT\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nX-Empty:\r\n\r\n",
}

func TestParsePrefixes(t *testing.T) {
	for _, in := range validRequests {
		t.Run(strings.Fields(strings.TrimLeft(in, "\r\n"))[0], func(t *testing.T) {
			var p httpcore.Parser
			want := summarize(&p, []byte(in))
			if want.Status != 0 || want.N != len(in) {
				t.Fatalf("Parse(%q): got %+v, want accepted with n=%d", in, want, len(in))
			}
			lead := len(in) - len(strings.TrimLeft(in, "\r\n"))
			for i := range len(in) {
				var req httpcore.Request
				n, err := p.Parse([]byte(in[:i]), &req)
				if !errors.Is(err, httpcore.ErrNeedMore) {
					t.Fatalf("Parse(%q): got err %v, want ErrNeedMore", in[:i], err)
				}
				if wantN := min(i, lead); n != wantN && !(n == wantN-1 && in[n] == '\r') {
					t.Fatalf("Parse(%q): got n=%d, want %d", in[:i], n, wantN)
				}
			}
			// Trailing bytes (a body, the next request) do not change the result.
			if got := summarize(&p, []byte(in+"GET / HTTP/1.0\r\n")); got != want {
				t.Errorf("Parse(%q + more):\ngot  %+v\nwant %+v", in, got, want)
			}
		})
	}
}

func TestParseNeedMore(t *testing.T) {
	tests := []struct {
		in    string
		wantN int
	}{
		{"", 0},
		{"\r", 0},
		{"\r\n", 2},
		{"\n\n\r\n", 4},
		{"\r\n\r", 2},
		{"\r\nG", 2},
		{"GET / HTTP/1.0\r\n\r", 0},
		{"GET / HTTP/1.0\r\nX: a\r", 0},
	}
	for _, tt := range tests {
		var p httpcore.Parser
		var req httpcore.Request
		n, err := p.Parse([]byte(tt.in), &req)
		if !errors.Is(err, httpcore.ErrNeedMore) || n != tt.wantN {
			t.Errorf("Parse(%q): got n=%d err=%v, want n=%d ErrNeedMore", tt.in, n, err, tt.wantN)
		}
	}
}

func TestParsePipelined(t *testing.T) {
	reqs := []string{
		"GET /a HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n",
		"hello",
		"\r\nHEAD /c?q HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
	}
	buf := []byte(strings.Join(reqs, ""))
	var p httpcore.Parser
	var req httpcore.Request
	var paths []string
	for len(buf) > 0 {
		n, err := p.Parse(buf, &req)
		if err != nil {
			t.Fatalf("Parse(%q): %v", buf, err)
		}
		paths = append(paths, string(req.Path))
		body := max(req.ContentLength, 0)
		buf = buf[n+int(body):]
		if !req.KeepAlive && len(buf) > 0 {
			t.Fatalf("Parse: got KeepAlive false with %q left", buf)
		}
	}
	if got, want := strings.Join(paths, ","), "/a,/b,/c"; got != want {
		t.Errorf("pipelined paths: got %q, want %q", got, want)
	}
	if n, err := p.Parse(buf, &req); !errors.Is(err, httpcore.ErrNeedMore) || n != 0 {
		t.Errorf("Parse(empty): got n=%d err=%v, want 0 ErrNeedMore", n, err)
	}
}

func TestParseLimits(t *testing.T) {
	p := httpcore.Parser{Limits: httpcore.Limits{MaxRequestLine: 16, MaxHeaderLine: 8, MaxHeaders: 2, MaxBody: 10}}
	tests := []struct {
		in     string
		status int // 0 accepted, -1 ErrNeedMore
	}{
		{"GET /0123456789 HTTP/1.0\r\n\r\n", 414},
		{"GET /01 HTTP/1.0\r\n\r\n", 0},              // 16 bytes: at the limit
		{"GET /012 HTTP/1.0\r\n\r\n", 414},           // 17 bytes
		{"GET /01 HTTP/1.0\r", -1},                   // at the limit, CRLF pending
		{"GET /01 HTTP/1.0\rX", 400},                 // bare CR at the limit
		{"GET /012 HTTP/1.0", 414},                   // incomplete, already over
		{"GET /012 HTTP/1.", -1},                     // incomplete, 16 bytes
		{"GET / HTTP/1.0\r\nA: 12345\r\n\r\n", 0},    // 8-byte field line
		{"GET / HTTP/1.0\r\nA: 123456\r\n\r\n", 431}, // 9 bytes
		{"GET / HTTP/1.0\r\nA: 123456", 431},         // incomplete, already over
		{"GET / HTTP/1.0\r\nA: 1\r\nB: 2\r\n\r\n", 0},
		{"GET / HTTP/1.0\r\nA: 1\r\nB: 2\r\nC", 431},
		{"GET / HTTP/1.0\r\nA: 1\r\nB: 2\r\n\r", -1},
		{"POST / HTTP/1.0\r\nContent-Length: 11\r\n\r\n", 431}, // field line over 8
	}
	for _, tt := range tests {
		var req httpcore.Request
		_, err := p.Parse([]byte(tt.in), &req)
		got := 0
		var e *httpcore.Error
		switch {
		case errors.Is(err, httpcore.ErrNeedMore):
			got = -1
		case errors.As(err, &e):
			got = e.Status
		}
		if got != tt.status {
			t.Errorf("Parse(%q) with %+v: got status %d (%v), want %d", tt.in, p.Limits, got, err, tt.status)
		}
	}
	big := httpcore.Parser{Limits: httpcore.Limits{MaxBody: 10}}
	var req httpcore.Request
	in := "POST / HTTP/1.0\r\nContent-Length: 11\r\n\r\n"
	if _, err := big.Parse([]byte(in), &req); err == nil || err.(*httpcore.Error).Status != 413 {
		t.Errorf("Parse(%q) with MaxBody 10: got %v, want 413", in, err)
	}
}

func TestParseMethod(t *testing.T) {
	tests := []struct {
		in   string
		want httpcore.Method
	}{
		{"GET", httpcore.MethodGET}, {"HEAD", httpcore.MethodHEAD}, {"POST", httpcore.MethodPOST},
		{"PUT", httpcore.MethodPUT}, {"DELETE", httpcore.MethodDELETE},
		{"OPTIONS", httpcore.MethodOPTIONS}, {"TRACE", httpcore.MethodTRACE},
		{"CONNECT", httpcore.MethodCONNECT}, {"PATCH", httpcore.MethodPATCH},
		{"get", httpcore.MethodUnknown}, {"GETS", httpcore.MethodUnknown}, {"", httpcore.MethodUnknown},
	}
	for _, tt := range tests {
		got := httpcore.ParseMethod([]byte(tt.in))
		if got != tt.want {
			t.Errorf("ParseMethod(%q): got %v, want %v", tt.in, got, tt.want)
		}
		if tt.want != httpcore.MethodUnknown && got.String() != tt.in {
			t.Errorf("Method(%d).String(): got %q, want %q", got, got.String(), tt.in)
		}
	}
	if got := httpcore.Method(200).String(); got != "UNKNOWN" {
		t.Errorf("Method(200).String(): got %q, want UNKNOWN", got)
	}
}

func TestParseReuse(t *testing.T) {
	var p httpcore.Parser
	var req httpcore.Request
	first := []byte("GET /a HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: x\r\nContent-Length: 3\r\nX: 1\r\n\r\n")
	second := []byte("GET /b HTTP/1.0\r\n\r\n")
	if _, err := p.Parse(first, &req); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse(second, &req); err != nil {
		t.Fatal(err)
	}
	if want := summarize(&p, second); summary(len(second), nil, &req) != want {
		t.Errorf("Parse after reuse: got %+v, want %+v", summary(len(second), nil, &req), want)
	}
	if len(req.Headers) != 0 || cap(req.Headers) < 4 {
		t.Errorf("Parse after reuse: got len %d cap %d headers, want 0 and >= 4", len(req.Headers), cap(req.Headers))
	}
	for _, s := range validRequests {
		in := []byte(s)
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := p.Parse(in, &req); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("Parse(%q): got %v allocs, want 0", in, allocs)
		}
	}
}
