package loadgen_test

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"flashbench/loadgen"
)

// parseAll feeds b to a parser in pieces of at most step bytes and returns
// the complete responses' status codes and bodies.
func parseAll(b []byte, step int) (statuses []int, bodies []string, err error) {
	p := loadgen.NewResponseParser()
	var body bytes.Buffer
	p.Body = &body
	for len(b) > 0 {
		chunk := b[:min(step, len(b))]
		n, done, ferr := p.Feed(chunk)
		if ferr != nil {
			return statuses, bodies, ferr
		}
		b = b[n:]
		if done {
			statuses = append(statuses, p.Status)
			bodies = append(bodies, body.String())
			body.Reset()
			p.Reset()
		}
	}
	if p.Started() {
		if done, eerr := p.EOF(); done {
			statuses = append(statuses, p.Status)
			bodies = append(bodies, body.String())
		} else {
			err = eerr
		}
	}
	return statuses, bodies, err
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		status  []int
		bodies  []string
		wantErr error
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", []int{200}, []string{"hello"}, nil},
		{"pipelined", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 Not Found\r\ncontent-length: 2\r\n\r\nbc",
			[]int{200, 404}, []string{"a", "bc"}, nil},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n",
			[]int{200}, []string{"abcde"}, nil},
		{"until close", "HTTP/1.0 200 OK\r\n\r\nall of it", []int{200}, []string{"all of it"}, nil},
		{"interim", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", []int{204}, []string{""}, nil},
		{"bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", []int{200}, []string{"ok"}, nil},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", nil, nil, loadgen.ErrShortBody},
		{"not http", "SSH-2.0-OpenSSH\r\n", nil, nil, loadgen.ErrMalformed},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: x1\r\n\r\n", nil, nil, loadgen.ErrMalformed},
		{"conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", nil, nil, loadgen.ErrMalformed},
	}
	for _, tt := range tests {
		for _, step := range []int{1, 3, 1 << 20} {
			statuses, bodies, err := parseAll([]byte(tt.in), step)
			if err != tt.wantErr {
				t.Errorf("%s (step %d): got error %v, want %v", tt.name, step, err, tt.wantErr)
				continue
			}
			if !equalInts(statuses, tt.status) || !equalStrings(bodies, tt.bodies) {
				t.Errorf("%s (step %d): got %v %q, want %v %q", tt.name, step, statuses, bodies, tt.status, tt.bodies)
			}
		}
	}
}

func TestParseConnectionClose(t *testing.T) {
	tests := []struct {
		in    string
		close bool
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false},
		{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", true},
		{"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", true},
		{"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", false},
	}
	for _, tt := range tests {
		p := loadgen.NewResponseParser()
		if _, done, err := p.Feed([]byte(tt.in)); !done || err != nil || p.Close != tt.close {
			t.Errorf("%q: got done %v, err %v, close %v; want true, nil, %v", tt.in, done, err, p.Close, tt.close)
		}
	}
}

// FuzzParseResponse checks that the parser never panics and that splitting
// the input into pieces never changes what it parses.
func FuzzParseResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s1, b1, e1 := parseAll(in, len(in)+1)
		s2, b2, e2 := parseAll(in, 1)
		if e1 != e2 || !equalInts(s1, s2) || !equalStrings(b1, b2) {
			t.Fatalf("%q: whole gives %v %q %v, byte by byte %v %q %v", in, s1, b1, e1, s2, b2, e2)
		}
	})
}

func BenchmarkParseResponse(b *testing.B) {
	resp := []byte("HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Type: text/plain\r\nContent-Length: 500\r\nConnection: keep-alive\r\n\r\n")
	resp = append(resp, bytes.Repeat([]byte{'x'}, 500)...)
	p := loadgen.NewResponseParser()
	p.Body = sha256.New()
	b.ReportAllocs()
	b.SetBytes(int64(len(resp)))
	for b.Loop() {
		p.Reset()
		if _, done, err := p.Feed(resp); !done || err != nil {
			b.Fatal(done, err)
		}
	}
}

// BenchmarkParseHeader parses an nginx response to a small file without
// hashing the body: the parser's own cost per response.
func BenchmarkParseHeader(b *testing.B) {
	resp := []byte("HTTP/1.1 200 OK\r\nServer: nginx/1.26.3\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n" +
		"Content-Type: application/octet-stream\r\nContent-Length: 500\r\n" +
		"Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\nConnection: keep-alive\r\n" +
		"ETag: \"65920080-1f4\"\r\nAccept-Ranges: bytes\r\n\r\n")
	resp = append(resp, bytes.Repeat([]byte{'x'}, 500)...)
	p := loadgen.NewResponseParser()
	b.ReportAllocs()
	b.SetBytes(int64(len(resp)))
	for b.Loop() {
		p.Reset()
		if _, done, err := p.Feed(resp); !done || err != nil {
			b.Fatal(done, err)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
