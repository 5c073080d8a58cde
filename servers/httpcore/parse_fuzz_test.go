package httpcore_test

import (
	"errors"
	"testing"
	"unsafe"

	"flashbench/servers/httpcore"
)

// fuzzParsers are the parsers every fuzz input goes through: the defaults,
// and tight limits so that short inputs reach the limit paths too.
var fuzzParsers = []httpcore.Parser{
	{},
	{Limits: httpcore.Limits{MaxRequestLine: 24, MaxHeaderLine: 16, MaxHeaders: 3, MaxBody: 100}},
}

// FuzzParse checks that Parse never panics, that an accepted request obeys
// the invariants of the API, that the answer does not depend on how the
// bytes were split between calls, and that net/http agrees with what
// httpcore accepts (compareNetHTTP lists the legitimate differences).
func FuzzParse(f *testing.F) {
	for _, in := range validRequests {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for i := range fuzzParsers {
			p := &fuzzParsers[i]
			var req httpcore.Request
			n, err := p.Parse(data, &req)
			want := summary(n, err, &req)
			checkResult(t, data, n, err, &req)
			checkPrefixes(t, p, data, want)
			if err != nil {
				continue
			}
			if got := summarize(p, data[:n]); got != want {
				t.Fatalf("Parse(%q[:%d]):\ngot  %+v\nwant %+v", data, n, got, want)
			}
			if i == 0 {
				if s := compareNetHTTP(data[:n], &req); s != "" {
					t.Fatalf("Parse(%q): net/http disagrees: %s", data[:n], s)
				}
			}
		}
	})
}

// checkResult checks the invariants of one Parse result.
func checkResult(t *testing.T, data []byte, n int, err error, req *httpcore.Request) {
	t.Helper()
	var e *httpcore.Error
	switch {
	case errors.Is(err, httpcore.ErrNeedMore):
		for _, c := range data[:n] {
			if c != '\r' && c != '\n' {
				t.Fatalf("Parse(%q): ErrNeedMore with n=%d covering %q", data, n, data[:n])
			}
		}
		return
	case errors.As(err, &e):
		if n != 0 || e.Status < 400 || e.Status > 599 || e.Reason == "" {
			t.Fatalf("Parse(%q): got n=%d %d %q", data, n, e.Status, e.Reason)
		}
		return
	case err != nil:
		t.Fatalf("Parse(%q): unexpected error type %T: %v", data, err, err)
	}
	if n <= 0 || n > len(data) || data[n-1] != '\n' {
		t.Fatalf("Parse(%q): got n=%d, want a header section end within %d bytes", data, n, len(data))
	}
	slices := [][]byte{req.MethodBytes, req.Target, req.Query, req.Host, req.IfModifiedSince}
	if string(req.Path) != "/" {
		slices = append(slices, req.Path)
	}
	for _, h := range req.Headers {
		slices = append(slices, h.Name, h.Value)
	}
	for _, s := range slices {
		if !within(data[:n], s) {
			t.Fatalf("Parse(%q): slice %q is not within the consumed bytes", data, s)
		}
	}
	if req.Major != 1 || len(req.Target) == 0 || len(req.MethodBytes) == 0 {
		t.Fatalf("Parse(%q): accepted with major %d target %q method %q", data, req.Major,
			req.Target, req.MethodBytes)
	}
}

// within reports whether s is nil or lies inside buf.
func within(buf, s []byte) bool {
	if s == nil || len(s) == 0 {
		return true
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	return p >= start && p+uintptr(len(s)) <= start+uintptr(len(buf))
}

// checkPrefixes checks that every prefix of data gives ErrNeedMore or the
// answer for the whole of data, as when the bytes arrive one at a time.
func checkPrefixes(t *testing.T, p *httpcore.Parser, data []byte, want parsed) {
	t.Helper()
	decided := false
	for k := 0; k <= len(data); k++ {
		got := summarize(p, data[:k])
		switch {
		case got.Status == -1 && !decided:
			if want.Status == -1 && k == len(data) && got != want {
				t.Fatalf("Parse(%q): got %+v, want %+v", data, got, want)
			}
		case got == want:
			decided = true
		default:
			t.Fatalf("Parse(%q) byte by byte, at %d bytes:\ngot  %+v\nwant %+v", data, k, got, want)
		}
		if k > 4096 {
			return // long inputs: the quadratic check stops here
		}
	}
}
