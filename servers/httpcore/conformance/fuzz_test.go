package conformance_test

import (
	"bufio"
	"bytes"
	"testing"

	"flashbench/servers/httpcore/conformance"
)

// FuzzReadResponse checks that the response reader never panics and that
// a body it accepts has exactly the announced length.
func FuzzReadResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), false)
	f.Add([]byte("HTTP/1.1 304 Not Modified\r\nDate: x\r\n\r\n"), false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"), true)
	f.Fuzz(func(t *testing.T, in []byte, head bool) {
		r, err := conformance.ReadResponse(bufio.NewReader(bytes.NewReader(in)), head)
		if err != nil {
			return
		}
		if len(r.Body) > 0 && int64(len(r.Body)) != r.ContentLength {
			t.Errorf("ReadResponse(%q): got a %d-byte body, Content-Length %d", in, len(r.Body), r.ContentLength)
		}
		if r.Status < 100 || r.Status > 999 || (r.Proto != "HTTP/1.1" && r.Proto != "HTTP/1.0") {
			t.Errorf("ReadResponse(%q): got status %d", in, r.Status)
		}
	})
}
