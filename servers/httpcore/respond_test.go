package httpcore_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"flashbench/servers/httpcore"
)

func TestResponseHeaders(t *testing.T) {
	root := t.TempDir()
	p := writeFile(t, root, "page.html", []byte("<p>hi</p>"))
	mtime := time.Date(2020, 2, 3, 4, 5, 6, 0, time.UTC)
	must(t, os.Chtimes(p, mtime, mtime))
	c := newCore(t, httpcore.Config{Root: root, ServerName: "testsrv"})
	tests := []struct {
		name      string
		req       *httpcore.Request
		conn      string
		wantClose bool
	}{
		{"http/1.1 keep-alive", get("/page.html"), "keep-alive", false},
		{"http/1.1 close", with(get("/page.html"), func(r *httpcore.Request) { r.KeepAlive = false }), "close", true},
		{"http/1.0", with(get("/page.html"), func(r *httpcore.Request) { r.Minor, r.KeepAlive = 0, false }), "close", true},
		{"http/1.0 keep-alive", with(get("/page.html"), func(r *httpcore.Request) { r.Minor = 0 }), "keep-alive", false},
		{"chunked body", with(get("/page.html"), func(r *httpcore.Request) { r.Chunked = true }), "close", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, c, tt.req)
			if !bytes.HasPrefix(r.raw, []byte("HTTP/1.1 200 OK\r\n")) {
				t.Fatalf("got status line of %q, want HTTP/1.1 200 OK", r.raw)
			}
			want := map[string]string{
				"server":         "testsrv",
				"content-type":   "text/html; charset=utf-8",
				"content-length": "9",
				"last-modified":  "Mon, 03 Feb 2020 04:05:06 GMT",
				"connection":     tt.conn,
			}
			for k, v := range want {
				if r.header[k] != v {
					t.Errorf("%s: got %q, want %q", k, r.header[k], v)
				}
			}
			if _, ok := httpcore.ParseHTTPDate([]byte(r.header["date"])); !ok {
				t.Errorf("date: got %q, want an IMF-fixdate", r.header["date"])
			}
			if r.close != tt.wantClose || string(r.body) != "<p>hi</p>" || r.kind != httpcore.BodyMapped {
				t.Errorf("got close %v body %q kind %d, want %v %q mapped", r.close, r.body, r.kind, tt.wantClose, "<p>hi</p>")
			}
		})
	}
}

func TestHead(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "f.txt", []byte("hello"))
	for _, cfg := range []httpcore.Config{{Root: root}, {Root: root, NoHeaderCache: true}} {
		c := newCore(t, cfg)
		g := do(t, c, get("/f.txt"))
		h := do(t, c, with(get("/f.txt"), func(r *httpcore.Request) { r.Method = httpcore.MethodHEAD }))
		delete(g.header, "date")
		delete(h.header, "date")
		if h.status != 200 || h.kind != httpcore.BodyNone || len(h.body) != 0 {
			t.Fatalf("HEAD: got status %d kind %d body %q, want 200, none, empty", h.status, h.kind, h.body)
		}
		if len(g.header) != len(h.header) {
			t.Fatalf("HEAD header %v, GET header %v", h.header, g.header)
		}
		for k, v := range g.header {
			if h.header[k] != v {
				t.Fatalf("HEAD %s: got %q, want %q as GET", k, h.header[k], v)
			}
		}
	}
}

func TestNotModified(t *testing.T) {
	root := t.TempDir()
	p := writeFile(t, root, "f.txt", []byte("hello"))
	mtime := time.Date(2021, 6, 7, 8, 9, 10, 500_000_000, time.UTC)
	must(t, os.Chtimes(p, mtime, mtime))
	c := newCore(t, httpcore.Config{Root: root})
	tests := []struct {
		ims    string
		status int
	}{
		{"", 200},
		{"Mon, 07 Jun 2021 08:09:10 GMT", 304}, // same second as the mtime
		{"Mon, 07 Jun 2021 08:09:11 GMT", 304},
		{"Mon, 07 Jun 2021 08:09:09 GMT", 200},
		{"Monday, 07-Jun-21 08:09:10 GMT", 304}, // RFC 850
		{"Mon Jun  7 08:09:10 2021", 304},       // asctime
		{"Mon Jun  7 08:09:09 2021", 200},
		{"yesterday", 200},
		{"Mon, 07 Jun 2021 08:09:10 UTC", 200},
	}
	for _, tt := range tests {
		t.Run(tt.ims, func(t *testing.T) {
			r := do(t, c, with(get("/f.txt"), func(r *httpcore.Request) { r.IfModifiedSince = []byte(tt.ims) }))
			if r.status != tt.status {
				t.Fatalf("If-Modified-Since %q: got %d, want %d", tt.ims, r.status, tt.status)
			}
			if tt.status != 304 {
				return
			}
			if r.kind != httpcore.BodyNone || len(r.body) != 0 {
				t.Fatalf("304: got kind %d body %q, want no body", r.kind, r.body)
			}
			if _, ok := r.header["content-length"]; ok {
				t.Fatalf("304: got Content-Length %q, want none", r.header["content-length"])
			}
			if r.header["last-modified"] != "Mon, 07 Jun 2021 08:09:10 GMT" || r.header["connection"] != "keep-alive" {
				t.Fatalf("304: got header %v", r.header)
			}
		})
	}
}

func TestMethodsAndBodies(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "f.txt", []byte("hello"))
	c := newCore(t, httpcore.Config{Root: root, Limits: httpcore.Limits{MaxBody: 100}})
	method := func(m httpcore.Method) func(*httpcore.Request) {
		return func(r *httpcore.Request) { r.Method = m }
	}
	tests := []struct {
		name      string
		req       *httpcore.Request
		status    int
		wantClose bool
		allow     bool
	}{
		{"post", with(get("/f.txt"), method(httpcore.MethodPOST)), 405, false, true},
		{"put", with(get("/f.txt"), method(httpcore.MethodPUT)), 405, false, true},
		{"delete", with(get("/f.txt"), method(httpcore.MethodDELETE)), 405, false, true},
		{"options", with(get("/f.txt"), method(httpcore.MethodOPTIONS)), 405, false, true},
		{"trace", with(get("/f.txt"), method(httpcore.MethodTRACE)), 405, false, true},
		{"connect", with(get("/f.txt"), method(httpcore.MethodCONNECT)), 405, false, true},
		{"patch", with(get("/f.txt"), method(httpcore.MethodPATCH)), 405, false, true},
		{"unknown", with(get("/f.txt"), method(httpcore.MethodUnknown)), 501, true, false},
		{"body within limit", with(get("/f.txt"), func(r *httpcore.Request) { r.ContentLength = 100 }), 200, false, false},
		{"body too large", with(get("/f.txt"), func(r *httpcore.Request) { r.ContentLength = 101 }), 413, true, false},
		{"post chunked", with(get("/f.txt"), func(r *httpcore.Request) { r.Method, r.Chunked = httpcore.MethodPOST, true }), 405, true, true},
		{"missing", get("/nope"), 404, false, false},
		{"missing close", with(get("/nope"), func(r *httpcore.Request) { r.KeepAlive = false }), 404, true, false},
		{"bad path", get("/%zz"), 400, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, c, tt.req)
			if r.status != tt.status || r.close != tt.wantClose {
				t.Fatalf("got status %d close %v, want %d %v", r.status, r.close, tt.status, tt.wantClose)
			}
			if got := r.header["allow"]; (got == "GET, HEAD") != tt.allow {
				t.Fatalf("Allow: got %q, want present %v", got, tt.allow)
			}
			if tt.status == 200 {
				return
			}
			wantConn := map[bool]string{true: "close", false: "keep-alive"}[tt.wantClose]
			statusLine, _, _ := strings.Cut(string(r.raw), "\r\n")
			h1 := "<h1>" + strings.TrimPrefix(statusLine, "HTTP/1.1 ") + "</h1>"
			if r.header["content-type"] != "text/html; charset=utf-8" || r.header["connection"] != wantConn ||
				!strings.Contains(string(r.body), h1) {
				t.Fatalf("error page: got header %v body %q", r.header, r.body)
			}
		})
	}
}

func TestRespondError(t *testing.T) {
	c := newCore(t, httpcore.Config{Root: t.TempDir()})
	var p httpcore.Plan
	c.RespondError(404, nil, &p)
	r := readPlan(t, &p)
	p.Release()
	want := "<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>\n"
	if r.status != 404 || !r.close || string(r.body) != want {
		t.Fatalf("got status %d close %v body %q, want 404 true %q", r.status, r.close, r.body, want)
	}
	for _, status := range []int{400, 413, 414, 431, 501, 505} {
		c.RespondError(status, get("/"), &p)
		if !p.Close {
			t.Errorf("RespondError(%d) on keep-alive: got Close false, want true", status)
		}
		p.Release()
	}
	c.RespondError(403, with(get("/"), func(r *httpcore.Request) { r.Method = httpcore.MethodHEAD }), &p)
	if r := readPlan(t, &p); r.kind != httpcore.BodyNone || r.close || r.header["content-length"] == "" {
		t.Fatalf("HEAD 403: got kind %d close %v header %v, want no body, keep-alive, a Content-Length", r.kind, r.close, r.header)
	}
	p.Release()
}

// TestParsedRequest runs the real parser in front of the core.
func TestParsedRequest(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "dir/x.css", []byte("body{}"))
	c := newCore(t, httpcore.Config{Root: root})
	var (
		parser httpcore.Parser
		req    httpcore.Request
	)
	in := "GET http://example.com/dir/%78.css?v=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
	if _, err := parser.Parse([]byte(in), &req); err != nil {
		t.Fatalf("Parse(%q): %v", in, err)
	}
	r := do(t, c, &req)
	if r.status != 200 || string(r.body) != "body{}" || r.header["connection"] != "keep-alive" || r.header["content-type"] != "text/css; charset=utf-8" {
		t.Fatalf("got status %d body %q header %v", r.status, r.body, r.header)
	}
}
