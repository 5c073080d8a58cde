package conformance

import (
	"slices"
	"strings"
)

// get returns an HTTP/1.1 GET of target with a Host field and extra
// header lines (each ending in CRLF).
func get(target string, extra ...string) string {
	return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + strings.Join(extra, "") + "\r\n"
}

// req returns "METHOD target HTTP/1.1" with a Host field and extra lines.
func req(method, target string, extra ...string) string {
	return method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n" + strings.Join(extra, "") + "\r\n"
}

// fileHeader is what a 200 response for a file must carry.
func fileHeader(ctype string) map[string]string {
	return map[string]string{"Content-Type": ctype, "Last-Modified": ModTimeHTTP}
}

// Cases is the conformance table. Each case runs on its own connection.
var Cases = slices.Concat(validCases(), connCases(), parseErrorCases(), hostTargetCases(), translationCases())

// validCases are well-formed requests for existing files.
func validCases() []Case {
	return []Case{
		{Name: "get-1.1", Request: get("/page.html"), Status: 200, BodyFile: "page.html",
			Header: fileHeader("text/html"), Conn: ConnOpen},
		{Name: "get-1.0", Request: "GET /page.html HTTP/1.0\r\n\r\n", Status: 200, BodyFile: "page.html",
			Header: fileHeader("text/html"), Conn: ConnClose},
		{Name: "head-1.1", Request: req("HEAD", "/page.html"), Status: 200, Head: true, BodyFile: "page.html",
			Header: fileHeader("text/html"), Conn: ConnOpen},
		{Name: "head-1.0", Request: "HEAD /50k.bin HTTP/1.0\r\n\r\n", Status: 200, Head: true, BodyFile: "50k.bin",
			Header: map[string]string{"Last-Modified": ModTimeHTTP}, Conn: ConnClose},
		{Name: "file-500b", Request: get("/500b.txt"), Status: 200, BodyFile: "500b.txt",
			Header: fileHeader("text/plain"), Conn: ConnOpen},
		{Name: "file-50k", Request: get("/50k.bin"), Status: 200, BodyFile: "50k.bin", Conn: ConnOpen},
		{Name: "file-empty", Request: get("/empty.txt"), Status: 200, BodyFile: "empty.txt",
			Header: map[string]string{"Content-Length": "0"}, Conn: ConnOpen},
		{Name: "mime-html", Request: get("/index.html"), Status: 200, BodyFile: "index.html", Header: fileHeader("text/html")},
		{Name: "mime-css", Request: get("/style.css"), Status: 200, BodyFile: "style.css", Header: fileHeader("text/css")},
		{Name: "mime-png", Request: get("/image.png"), Status: 200, BodyFile: "image.png", Header: fileHeader("image/png")},
		{Name: "mime-txt", Request: get("/notes.txt"), Status: 200, BodyFile: "notes.txt", Header: fileHeader("text/plain")},
		{Name: "mime-unknown", Request: get("/blob.xyzzy"), Status: 200, BodyFile: "blob.xyzzy",
			Header: fileHeader("application/octet-stream")},
		{Name: "ims-equal-304", Request: get("/page.html", "If-Modified-Since: "+ModTimeHTTP+"\r\n"),
			Status: 304, Head: true, Conn: ConnOpen},
		{Name: "ims-later-304", Request: get("/page.html", "If-Modified-Since: Fri, 01 Jan 2010 00:00:00 GMT\r\n"),
			Status: 304, Head: true, Conn: ConnOpen},
		{Name: "ims-earlier-200", Request: get("/page.html", "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n"),
			Status: 200, BodyFile: "page.html", Header: fileHeader("text/html")},
		{Name: "ims-invalid-200", Request: get("/page.html", "If-Modified-Since: yesterday\r\n"),
			Status: 200, BodyFile: "page.html"},
		{Name: "head-ims-304", Request: req("HEAD", "/page.html", "If-Modified-Since: "+ModTimeHTTP+"\r\n"),
			Status: 304, Head: true},
		{Name: "leading-crlf", Request: "\r\n\r\n" + get("/notes.txt"), Status: 200, BodyFile: "notes.txt", Conn: ConnOpen},
		{Name: "query-ignored", Request: get("/page.html?x=1&y=%2e%2e"), Status: 200, BodyFile: "page.html"},
		{Name: "absolute-form", Request: get("http://localhost/page.html"), Status: 200, BodyFile: "page.html"},
		{Name: "header-names-any-case", Request: "GET /notes.txt HTTP/1.1\r\nhOST: localhost\r\nuser-agent: x\r\n\r\n",
			Status: 200, BodyFile: "notes.txt"},
		{Name: "get-with-body-skipped", Request: get("/notes.txt", "Content-Length: 5\r\n") + "hello" + get("/500b.txt"),
			Status: 200, BodyFile: "notes.txt", More: []Want{{Status: 200, BodyFile: "500b.txt"}}, Conn: ConnOpen},
		{Name: "content-length-zero", Request: get("/notes.txt", "Content-Length: 0\r\n"), Status: 200,
			BodyFile: "notes.txt", Conn: ConnOpen},
		{Name: "head-missing-404", Request: req("HEAD", "/missing.html"), Status: 404, Head: true},
	}
}

// connCases cover persistence, pipelining and methods the server refuses.
func connCases() []Case {
	allow := map[string]string{"Allow": Allow}
	return []Case{
		{Name: "1.0-closes-by-default", Request: "GET /notes.txt HTTP/1.0\r\n\r\n", Status: 200,
			BodyFile: "notes.txt", Conn: ConnClose},
		{Name: "1.0-keep-alive", Request: "GET /notes.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", Status: 200,
			BodyFile: "notes.txt", Header: map[string]string{"Connection": "keep-alive"}, Conn: ConnOpen,
			Next: "GET /500b.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"},
		{Name: "1.1-stays-open", Request: get("/notes.txt"), Status: 200, BodyFile: "notes.txt", Conn: ConnOpen},
		{Name: "1.1-connection-close", Request: get("/notes.txt", "Connection: close\r\n"), Status: 200,
			BodyFile: "notes.txt", Header: map[string]string{"Connection": "close"}, Conn: ConnClose},
		{Name: "1.1-connection-close-any-case", Request: get("/notes.txt", "connection: CLOSE\r\n"), Status: 200,
			BodyFile: "notes.txt", Conn: ConnClose},
		{Name: "pipeline-3", Request: get("/page.html") + get("/500b.txt") + req("HEAD", "/50k.bin"),
			Status: 200, BodyFile: "page.html",
			More: []Want{{Status: 200, BodyFile: "500b.txt"}, {Status: 200, Head: true, BodyFile: "50k.bin"}},
			Conn: ConnOpen},
		{Name: "pipeline-mixed-statuses", Request: get("/missing") + get("/style.css") + get("/noindex/"),
			Status: 404, More: []Want{{Status: 200, BodyFile: "style.css"}, {Status: 403}}},
		{Name: "pipeline-good-then-bad", Request: get("/notes.txt") + get("/500b.txt") + "BAD\r\n\r\n" + get("/page.html"),
			Status: 200, BodyFile: "notes.txt", More: []Want{{Status: 200, BodyFile: "500b.txt"}, {Status: 400}},
			Conn: ConnClose},
		{Name: "pipeline-last-closes", Request: get("/notes.txt") + get("/500b.txt", "Connection: close\r\n"),
			Status: 200, BodyFile: "notes.txt", More: []Want{{Status: 200, BodyFile: "500b.txt"}}, Conn: ConnClose},
		{Name: "post-405", Request: req("POST", "/page.html", "Content-Length: 0\r\n"), Status: 405, Header: allow},
		{Name: "put-405", Request: req("PUT", "/page.html", "Content-Length: 0\r\n"), Status: 405, Header: allow},
		{Name: "delete-405", Request: req("DELETE", "/page.html"), Status: 405, Header: allow},
		{Name: "post-body-then-get", Request: req("POST", "/page.html", "Content-Length: 11\r\n") + "a=1&b=2&c=3" +
			get("/500b.txt"), Status: 405, Header: allow, More: []Want{{Status: 200, BodyFile: "500b.txt"}}, Conn: ConnOpen},
		{Name: "post-chunked-closes", Request: req("POST", "/page.html", "Transfer-Encoding: chunked\r\n") +
			"5\r\nhello\r\n0\r\n\r\n", Status: 405, Header: allow, Conn: ConnClose},
		{Name: "post-too-large-413", Request: req("POST", "/page.html", "Content-Length: 2000000000\r\n"),
			Status: 413, Conn: ConnClose},
		{Name: "unknown-method-501", Request: req("BREW", "/page.html"), Status: 501},
		{Name: "lowercase-get-501", Request: req("get", "/page.html"), Status: 501},
	}
}
