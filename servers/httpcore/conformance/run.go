package conformance

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Timeout bounds every read and write of the suite, generous so that a
// loaded machine never fails a case, short enough that a server that
// neither answers nor closes fails instead of hanging.
const Timeout = 5 * time.Second

// Run runs every case of Cases against the server at addr (host:port)
// serving root, which Docroot built, one subtest per case.
func Run(t *testing.T, addr, root string) {
	t.Helper()
	RunCases(t, addr, root, Cases)
}

// RunCases runs the given cases, one subtest each.
func RunCases(t *testing.T, addr, root string, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) { RunCase(t, addr, root, c) })
	}
}

// RunCase runs one case on a fresh connection: it writes the request,
// reads and checks every expected response in order, then checks what the
// server did with the connection.
func RunCase(t *testing.T, addr, root string, c Case) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, Timeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(Timeout))
	// A server may answer and close before reading everything (a request
	// line over the limit): a failed write is reported only if the
	// responses are missing too.
	_, werr := conn.Write([]byte(c.Request))
	br := bufio.NewReader(conn)
	for i, w := range c.Wants() {
		conn.SetReadDeadline(time.Now().Add(Timeout))
		resp, err := ReadResponse(br, w.Head)
		if err != nil {
			t.Fatalf("request %q: response %d of %d: %v (write error: %v)", clip(c.Request), i+1, len(c.Wants()), err, werr)
		}
		for _, p := range Check(root, w, resp) {
			t.Errorf("request %q: response %d: %s", clip(c.Request), i+1, p)
		}
	}
	checkConn(t, conn, br, root, c)
}

// checkConn checks that the server closed, or kept open, the connection.
func checkConn(t *testing.T, conn net.Conn, br *bufio.Reader, root string, c Case) {
	t.Helper()
	switch c.Conn {
	case ConnClose:
		conn.SetReadDeadline(time.Now().Add(Timeout))
		b, err := br.ReadByte()
		switch {
		case err == nil:
			rest, _ := br.Peek(br.Buffered())
			t.Errorf("request %q: got bytes after the last response %q, want the connection closed",
				clip(c.Request), clip(string(b)+string(rest)))
		case isTimeout(err):
			t.Errorf("request %q: server kept the connection open for %v, want close", clip(c.Request), Timeout)
		case !isClosed(err):
			t.Errorf("request %q: read after the last response: %v, want EOF", clip(c.Request), err)
		}
	case ConnOpen:
		next := c.Next
		if next == "" {
			next = nextRequest
		}
		conn.SetDeadline(time.Now().Add(Timeout))
		if _, err := conn.Write([]byte(next)); err != nil {
			t.Fatalf("request %q: follow-up write: %v, want the connection open", clip(c.Request), err)
		}
		resp, err := ReadResponse(br, false)
		if err != nil {
			t.Fatalf("request %q: follow-up response: %v, want the connection open", clip(c.Request), err)
		}
		for _, p := range Check(root, Want{Status: 200, BodyFile: "500b.txt"}, resp) {
			t.Errorf("request %q: follow-up response: %s", clip(c.Request), p)
		}
	}
}

// Check returns every way resp differs from w, plus the rules every
// response obeys: Date and Server present, Content-Length present on any
// response with a body, an HTML body on errors, never the secret.
func Check(root string, w Want, resp *Response) []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if resp.Status != w.Status {
		add("got status %d %s, want %d", resp.Status, resp.Reason, w.Status)
	}
	if _, err := http.ParseTime(resp.Get("Date")); err != nil {
		add("got Date %q, want an HTTP date", resp.Get("Date"))
	}
	if !resp.Has("Server") {
		add("got no Server field, want one")
	}
	if resp.ContentLength < 0 && resp.Status != 304 {
		add("got no Content-Length, want one")
	}
	if resp.Status >= 400 {
		if mt := mediaType(resp.Get("Content-Type")); mt != "text/html" {
			add("error response: got Content-Type %q, want text/html", resp.Get("Content-Type"))
		}
		if resp.ContentLength == 0 {
			add("error response: got an empty body, want an HTML page")
		}
	}
	if resp.Status == 304 && resp.ContentLength > 0 && len(resp.Body) > 0 {
		add("304: got a %d-byte body, want none", len(resp.Body))
	}
	if bytes.Contains(resp.Body, []byte(Secret)) {
		add("got the secret file outside the root in the body")
	}
	p = append(p, checkHeader(w, resp)...)
	return append(p, checkBody(root, w, resp)...)
}

// checkHeader compares the fields Want names.
func checkHeader(w Want, resp *Response) []string {
	var p []string
	for name, want := range w.Header {
		got, ok := resp.Header[strings.ToLower(name)]
		switch {
		case !ok:
			p = append(p, fmt.Sprintf("got no %s field, want %q", name, want))
		case want == "*":
		case strings.EqualFold(name, "Content-Type"):
			if mediaType(got[0]) != want {
				p = append(p, fmt.Sprintf("got %s %q, want media type %q", name, got[0], want))
			}
		case len(got) != 1 || got[0] != want:
			p = append(p, fmt.Sprintf("got %s %q, want %q", name, got, want))
		}
	}
	for _, name := range w.Absent {
		if resp.Has(name) {
			p = append(p, fmt.Sprintf("got %s %q, want no such field", name, resp.Get(name)))
		}
	}
	return p
}

// checkBody compares the body (or, for HEAD, its announced length) with
// the fixture file and the expected substring.
func checkBody(root string, w Want, resp *Response) []string {
	var p []string
	if w.BodyFile != "" && resp.Status == w.Status {
		want, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(w.BodyFile)))
		switch {
		case err != nil:
			p = append(p, fmt.Sprintf("read expected body: %v", err))
		case resp.ContentLength != int64(len(want)):
			p = append(p, fmt.Sprintf("got Content-Length %d, want %d (size of %s)", resp.ContentLength, len(want), w.BodyFile))
		case !w.Head && !bytes.Equal(resp.Body, want):
			p = append(p, fmt.Sprintf("body differs from %s at byte %d of %d", w.BodyFile, firstDiff(resp.Body, want), len(want)))
		}
	}
	if w.BodyContains != "" && !bytes.Contains(resp.Body, []byte(w.BodyContains)) {
		p = append(p, fmt.Sprintf("got body %q, want it to contain %q", clip(string(resp.Body)), w.BodyContains))
	}
	return p
}

// mediaType returns the lower-case media type of a Content-Type value.
func mediaType(v string) string {
	mt, _, _ := strings.Cut(v, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// firstDiff returns the index of the first byte where a and b differ.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// isTimeout reports whether err is a deadline expiry.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isClosed reports whether err means the peer closed the connection: a
// FIN, or a reset when the server closed with unread input.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// clip shortens s for failure messages.
func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}
