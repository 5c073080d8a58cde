package cgi

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParseCGIOutput feeds arbitrary program output to the classic CGI
// parser: it never panics; a failure is a 502; a success has a status in
// range, a Content-Type that cannot split the response header, and a body
// that is the tail of the output.
func FuzzParseCGIOutput(f *testing.F) {
	for _, s := range []string{
		"Content-Type: text/plain\r\n\r\nhello\n",
		"Status: 404 Not Found\nContent-Type: text/html\n\n<p>gone</p>",
		"Status: abc\nContent-Type: text/plain\n\n",
		"Status: 100 Continue\nContent-Type: text/plain\n\nbody",
		"Content-Type: text/plain\rX-Injected: 1\n\n",
		"no header at all",
		"X-Other: 1\n\nbody",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := parseCGIOutput(b)
		if err != nil {
			var se *StatusError
			if !errors.As(err, &se) || se.Status != 502 {
				t.Fatalf("parseCGIOutput(%q): got error %v, want a 502 StatusError", b, err)
			}
			return
		}
		if res.Status < 200 || res.Status > 599 || res.Status == 204 || res.Status == 304 {
			t.Fatalf("parseCGIOutput(%q): got status %d", b, res.Status)
		}
		for _, c := range res.ContentType {
			if c < ' ' && c != '\t' || c == 0x7f {
				t.Fatalf("parseCGIOutput(%q): got Content-Type %q with a control byte", b, res.ContentType)
			}
		}
		if !bytes.HasSuffix(b, res.Body) {
			t.Fatalf("parseCGIOutput(%q): got body %q, not the output's tail", b, res.Body)
		}
	})
}
