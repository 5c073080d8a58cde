package httpcore_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"flashbench/servers/httpcore"

	"golang.org/x/sys/unix"
)

// response is a Plan read back the way a sender would send it.
type response struct {
	status int
	header map[string]string // lower-case names
	raw    []byte            // the header bytes
	body   []byte
	kind   httpcore.BodyKind
	close  bool
}

func newCore(t testing.TB, cfg httpcore.Config) *httpcore.Core {
	t.Helper()
	c, err := httpcore.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// get is a GET request as the parser would produce it.
func get(path string) *httpcore.Request {
	return &httpcore.Request{Method: httpcore.MethodGET, MethodBytes: []byte("GET"), Target: []byte(path),
		Path: []byte(path), Major: 1, Minor: 1, KeepAlive: true, ContentLength: -1}
}

func with(req *httpcore.Request, f func(*httpcore.Request)) *httpcore.Request {
	f(req)
	return req
}

// do responds to req and reads the Plan back.
func do(t testing.TB, c *httpcore.Core, req *httpcore.Request) response {
	t.Helper()
	var p httpcore.Plan
	c.Respond(req, &p)
	defer p.Release()
	return readPlan(t, &p)
}

// readPlan reads a Plan's header and body and checks that they agree.
func readPlan(t testing.TB, p *httpcore.Plan) response {
	t.Helper()
	r := response{header: map[string]string{}, raw: bytes.Clone(p.Header), kind: p.Kind, close: p.Close, status: p.Status}
	head, ok := bytes.CutSuffix(p.Header, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("header %q does not end in CRLF CRLF", p.Header)
	}
	lines := strings.Split(string(head), "\r\n")
	want := "HTTP/1.1 " + strconv.Itoa(p.Status) + " "
	if !strings.HasPrefix(lines[0], want) {
		t.Fatalf("status line %q, want prefix %q", lines[0], want)
	}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ": ")
		if !ok {
			t.Fatalf("header line %q has no colon", l)
		}
		r.header[strings.ToLower(name)] = value
	}
	switch p.Kind {
	case httpcore.BodyBytes:
		r.body = bytes.Clone(p.Bytes)
	case httpcore.BodyMapped:
		for _, ch := range p.Chunks {
			if err := httpcore.Touch(ch.Bytes()); err != nil {
				t.Fatalf("touch chunk: %v", err)
			}
			r.body = append(r.body, ch.Bytes()...)
		}
	case httpcore.BodyFile:
		r.body = make([]byte, p.Length)
		n, err := unix.Pread(p.File.Fd(), r.body, p.Offset)
		if err != nil || int64(n) != p.Length {
			t.Fatalf("pread: got %d, %v, want %d bytes", n, err, p.Length)
		}
	}
	if int64(len(r.body)) != p.Length {
		t.Fatalf("Plan.Length %d, body %d bytes", p.Length, len(r.body))
	}
	if cl, ok := r.header["content-length"]; ok && p.Kind != httpcore.BodyNone && cl != strconv.Itoa(len(r.body)) {
		t.Fatalf("Content-Length %s, body %d bytes", cl, len(r.body))
	}
	return r
}
