package conformance

import (
	"fmt"
	"strings"
)

// parseErrorCases are malformed requests: the parser refuses them and the
// stream can no longer be trusted, so the connection must close.
func parseErrorCases() []Case {
	bad := func(name, request string, status int) Case {
		return Case{Name: name, Request: request, Status: status, Conn: ConnClose}
	}
	const h = "Host: localhost\r\n"
	var many strings.Builder
	for i := range 101 {
		fmt.Fprintf(&many, "X-Field-%d: %d\r\n", i, i)
	}
	return []Case{
		bad("request-line-no-version", "GET /page.html\r\n\r\n", 400),
		bad("request-line-double-space", "GET  /page.html HTTP/1.1\r\n"+h+"\r\n", 400),
		bad("request-line-garbage", "BAD\r\n\r\n", 400),
		bad("target-not-origin-form", "GET page.html HTTP/1.1\r\n"+h+"\r\n", 400),
		bad("version-malformed", "GET /page.html HTTP/1.x\r\n"+h+"\r\n", 400),
		bad("version-lowercase", "GET /page.html http/1.1\r\n"+h+"\r\n", 400),
		bad("version-2.0-505", "GET /page.html HTTP/2.0\r\n"+h+"\r\n", 505),
		bad("version-3.1-505", "GET /page.html HTTP/3.1\r\n"+h+"\r\n", 505),
		bad("bare-cr-in-header", "GET /page.html HTTP/1.1\r\nHost: localhost\rX-A: b\r\n\r\n", 400),
		bad("bare-cr-in-request-line", "GET /page.html\rX HTTP/1.1\r\n"+h+"\r\n", 400),
		bad("nul-in-target", "GET /pa\x00ge.html HTTP/1.1\r\n"+h+"\r\n", 400),
		bad("control-byte-in-header", "GET /page.html HTTP/1.1\r\n"+h+"X-A: a\x01b\r\n\r\n", 400),
		bad("obs-fold", "GET /page.html HTTP/1.1\r\n"+h+"X-A: a\r\n b\r\n\r\n", 400),
		bad("space-before-colon", "GET /page.html HTTP/1.1\r\nHost : localhost\r\n\r\n", 400),
		bad("empty-header-name", "GET /page.html HTTP/1.1\r\n"+h+": value\r\n\r\n", 400),
		bad("header-without-colon", "GET /page.html HTTP/1.1\r\n"+h+"NoColon\r\n\r\n", 400),
		bad("missing-host-1.1", "GET /page.html HTTP/1.1\r\n\r\n", 400),
		bad("duplicate-host", "GET /page.html HTTP/1.1\r\n"+h+h+"\r\n", 400),
		bad("content-length-differing", get("/page.html", "Content-Length: 5\r\n", "Content-Length: 6\r\n")+"hello!", 400),
		bad("content-length-and-chunked", get("/page.html", "Content-Length: 5\r\n", "Transfer-Encoding: chunked\r\n")+
			"0\r\n\r\n", 400),
		bad("content-length-letters", get("/page.html", "Content-Length: abc\r\n"), 400),
		bad("content-length-negative", get("/page.html", "Content-Length: -1\r\n"), 400),
		bad("content-length-plus", get("/page.html", "Content-Length: +5\r\n")+"hello", 400),
		bad("transfer-encoding-gzip-501", get("/page.html", "Transfer-Encoding: gzip\r\n"), 501),
		bad("request-line-too-long-414", get("/"+strings.Repeat("a", 9000)), 414),
		bad("header-line-too-long-431", get("/page.html", "X-Long: "+strings.Repeat("v", 9000)+"\r\n"), 431),
		bad("too-many-headers-431", get("/page.html", many.String()), 431),
	}
}

// translationCases cover URL to file translation: confinement to the
// root, percent decoding, directories and symlinks.
func translationCases() []Case {
	bad := func(name, target string) Case {
		return Case{Name: name, Request: get(target), Status: 400}
	}
	return []Case{
		bad("dotdot", "/../secret.txt"),
		bad("dotdot-encoded", "/%2e%2e/secret.txt"),
		bad("dotdot-encoded-mixed-case", "/%2E%2e/page.html"),
		bad("dotdot-after-dir", "/a/../../x"),
		bad("dotdot-at-end-above-root", "/dir/../.."),
		bad("encoded-nul", "/page.html%00.txt"),
		bad("bad-escape", "/%zz.html"),
		bad("truncated-escape", "/page.html%2"),
		{Name: "double-encoded-dotdot-404", Request: get("/%252e%252e/secret.txt"), Status: 404},
		{Name: "backslash-not-separator-404", Request: get(`/..\..\etc\passwd`), Status: 404},
		{Name: "double-slash-resolves", Request: get("//dir//inner.txt"), Status: 200, BodyFile: "dir/inner.txt"},
		{Name: "symlink-inside", Request: get("/inside-link.html"), Status: 200, BodyFile: "page.html",
			Header: map[string]string{"Content-Type": "text/html"}},
		{Name: "symlink-inside-relative", Request: get("/dir/up-link.txt"), Status: 200, BodyFile: "notes.txt"},
		{Name: "symlink-escaping-403", Request: get("/escape.txt"), Status: 403},
		{Name: "symlink-escaping-relative-403", Request: get("/dir/escape2.txt"), Status: 403},
		{Name: "symlink-escaping-dir-403", Request: get("/escape-dir/secret.txt"), Status: 403},
		{Name: "dir-with-index", Request: get("/dir/"), Status: 200, BodyFile: "dir/index.html",
			Header: map[string]string{"Content-Type": "text/html"}},
		{Name: "root-index", Request: get("/"), Status: 200, BodyFile: "index.html"},
		{Name: "dir-without-index-403", Request: get("/noindex/"), Status: 403},
		{Name: "missing-404", Request: get("/missing.html"), Status: 404, Conn: ConnOpen},
		{Name: "missing-in-dir-404", Request: get("/dir/missing.html"), Status: 404},
		{Name: "file-as-dir-404", Request: get("/page.html/x"), Status: 404},
		{Name: "space-escaped", Request: get("/with%20space.txt"), Status: 200, BodyFile: "with space.txt"},
		{Name: "literal-percent-name", Request: get("/a%252eb.txt"), Status: 200, BodyFile: "a%2eb.txt"},
		{Name: "escaped-letters", Request: get("/%70age.html"), Status: 200, BodyFile: "page.html"},
		{Name: "deep-path", Request: get("/deep/er/file.html"), Status: 200, BodyFile: "deep/er/file.html"},
		{Name: "dot-segment", Request: get("/./page.html"), Status: 200, BodyFile: "page.html"},
		// ".." that stays beneath the root is resolved (RFC 3986 5.2.4),
		// never served from outside it.
		{Name: "dotdot-inside-root", Request: get("/dir/../page.html"), Status: 200, BodyFile: "page.html"},
		{Name: "dotdot-inside-root-dir", Request: get("/dir/.."), Status: 200, BodyFile: "index.html"},
	}
}

// hostTargetCases cover the syntax of the Host field (RFC 9112 3.2: an
// invalid value, like a second field, is refused with 400 on any request)
// and the bytes a request-target may carry raw: not a byte above 0x7f, not
// a fragment.
func hostTargetCases() []Case {
	bad := func(name, request string) Case {
		return Case{Name: name, Request: request, Status: 400, Conn: ConnClose}
	}
	host := func(name, value string) Case {
		return bad(name, "GET /page.html HTTP/1.1\r\nHost: "+value+"\r\n\r\n")
	}
	served := func(name, request, file string) Case {
		return Case{Name: name, Request: request, Status: 200, BodyFile: file, Conn: ConnOpen}
	}
	return []Case{
		host("host-with-space", "a b"),
		host("host-with-slash", "local/host"),
		host("host-with-userinfo", "user@localhost"),
		host("host-port-not-digits", "localhost:80a"),
		host("host-ip-literal-unclosed", "[::1"),
		host("host-ip-literal-invalid", "[1::2::3]"),
		host("host-raw-utf8", "caf\xc3\xa9.example"),
		bad("host-invalid-1.0", "GET /page.html HTTP/1.0\r\nHost: a b\r\n\r\n"),
		bad("duplicate-host-1.0", "GET /page.html HTTP/1.0\r\nHost: localhost\r\nHost: localhost\r\n\r\n"),
		bad("duplicate-host-differing", get("/page.html", "Host: example.com\r\n")),
		bad("absolute-form-port-not-digits", get("http://localhost:8x/page.html")),
		bad("absolute-form-userinfo", get("http://user@localhost/page.html")),
		bad("target-raw-0xff", get("/page\xff.html")),
		bad("target-raw-utf8", get("/caf\xc3\xa9.html")),
		bad("target-fragment", get("/page.html#x")),
		bad("target-fragment-after-query", get("/page.html?x=1#y")),
		bad("target-double-quote", get("/page\".html")),
		bad("target-tab", get("/page\t.html")),
		served("host-with-port", "GET /page.html HTTP/1.1\r\nHost: localhost:8080\r\n\r\n", "page.html"),
		served("host-ipv4", "GET /page.html HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n", "page.html"),
		served("host-ip-literal", "GET /page.html HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", "page.html"),
		served("host-empty", "GET /page.html HTTP/1.1\r\nHost:\r\n\r\n", "page.html"),
		served("absolute-form-ip-literal", get("http://[::1]/page.html"), "page.html"),
		served("target-escaped-utf8", get("/caf%C3%A9.html"), "caf\u00e9.html"),
	}
}
