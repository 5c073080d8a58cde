package cgiproto_test

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"testing/iotest"

	"flashbench/cgi-apps/cgiproto"
)

func sampleRequest() *cgiproto.Request {
	return &cgiproto.Request{
		ID: 7, Method: []byte("POST"), Path: []byte("/cgi-bin/dyn"), Query: []byte("size=10"),
		Headers: []cgiproto.Header{{Name: []byte("Content-Type"), Value: []byte("text/plain")}},
		Body:    []byte("hello"),
	}
}

func TestRoundTrip(t *testing.T) {
	resp := &cgiproto.Response{ID: 9, Status: 200, ContentType: []byte("text/html"), Body: []byte("<p>x</p>")}
	shm := &cgiproto.Response{ID: 10, Status: 502, ContentType: []byte("a/b"), Segments: []cgiproto.Segment{{Offset: 4096, Length: 51200}}}
	cached := &cgiproto.Response{ID: 11, Status: 200, Flags: cgiproto.FlagZeroCopy, ContentType: []byte("text/plain"), Segments: []cgiproto.Segment{{Offset: 8192, Length: 500}}}
	rel := []cgiproto.Segment{{Offset: 0, Length: 1}, {Offset: 8192, Length: 3}}

	var b []byte
	b = cgiproto.AppendRequest(b, sampleRequest())
	b = cgiproto.AppendResponse(b, resp)
	b = cgiproto.AppendResponse(b, shm)
	b = cgiproto.AppendResponse(b, cached)
	b = cgiproto.AppendRelease(b, rel)

	r := cgiproto.NewReader(iotest.OneByteReader(bytes.NewReader(b)))
	var gotReq cgiproto.Request
	mustNext(t, r, cgiproto.KindRequest, func(p []byte) error { return cgiproto.DecodeRequest(p, &gotReq) })
	if !reflect.DeepEqual(&gotReq, sampleRequest()) {
		t.Errorf("request: got %+v, want %+v", gotReq, sampleRequest())
	}
	for _, want := range []*cgiproto.Response{resp, shm, cached} {
		var got cgiproto.Response
		mustNext(t, r, cgiproto.KindResponse, func(p []byte) error { return cgiproto.DecodeResponse(p, &got) })
		if len(want.Segments) == 0 {
			got.Segments = nil
		}
		if len(want.Body) == 0 && len(got.Body) == 0 {
			got.Body = want.Body
		}
		if !reflect.DeepEqual(&got, want) {
			t.Errorf("response: got %+v, want %+v", got, want)
		}
		if got.BodyLength() != want.BodyLength() {
			t.Errorf("body length: got %d, want %d", got.BodyLength(), want.BodyLength())
		}
	}
	var gotRel []cgiproto.Segment
	mustNext(t, r, cgiproto.KindRelease, func(p []byte) (err error) { gotRel, err = cgiproto.DecodeRelease(p, nil); return err })
	if !reflect.DeepEqual(gotRel, rel) {
		t.Errorf("release: got %v, want %v", gotRel, rel)
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Errorf("after the last frame: got %v, want io.EOF", err)
	}
}

func mustNext(t *testing.T, r *cgiproto.Reader, want cgiproto.Kind, decode func([]byte) error) {
	t.Helper()
	kind, payload, err := r.Next()
	if err != nil {
		t.Fatalf("next: %v", err)
	}
	if kind != want {
		t.Fatalf("kind: got %d, want %d", kind, want)
	}
	if err := decode(payload); err != nil {
		t.Fatalf("decode: %v", err)
	}
}

func TestNextErrors(t *testing.T) {
	full := cgiproto.AppendRequest(nil, sampleRequest())
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, cgiproto.ErrShort},
		{"header only", full[:cgiproto.HeaderSize], cgiproto.ErrShort},
		{"truncated", full[:len(full)-1], cgiproto.ErrShort},
		{"too long", []byte{0xff, 0xff, 0xff, 0xff, 1}, cgiproto.ErrTooLong},
		{"bad kind", []byte{0, 0, 0, 0, 9}, cgiproto.ErrKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := cgiproto.Next(tt.in)
			if !errors.Is(err, tt.want) {
				t.Errorf("Next(%q): got %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func TestReaderTruncated(t *testing.T) {
	full := cgiproto.AppendRequest(nil, sampleRequest())
	r := cgiproto.NewReader(bytes.NewReader(full[:len(full)-2]))
	if _, _, err := r.Next(); err != io.ErrUnexpectedEOF {
		t.Errorf("got %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestDecodeRejects(t *testing.T) {
	seg := []cgiproto.Segment{{Offset: 0, Length: 1}}
	tests := []struct {
		name string
		resp cgiproto.Response
	}{
		{"inline body and segments", cgiproto.Response{ID: 1, Status: 200, Body: []byte("x"), Segments: seg}},
		{"status 42", cgiproto.Response{ID: 1, Status: 42}},
		{"status 100, no final answer", cgiproto.Response{ID: 1, Status: 100, ContentType: []byte("text/plain")}},
		{"status 304 with a body", cgiproto.Response{ID: 1, Status: 304, ContentType: []byte("text/plain"), Body: []byte("x")}},
		{"CR in the content type", cgiproto.Response{ID: 1, Status: 200, ContentType: []byte("text/plain\rSet-Cookie: a=b")}},
		{"LF in the content type", cgiproto.Response{ID: 1, Status: 200, ContentType: []byte("text/plain\nX: y")}},
		{"NUL in the content type", cgiproto.Response{ID: 1, Status: 200, ContentType: []byte("text/\x00plain")}},
		{"zero copy without segments", cgiproto.Response{ID: 1, Status: 200, Flags: cgiproto.FlagZeroCopy, Body: []byte("x")}},
		{"unknown flag", cgiproto.Response{ID: 1, Status: 200, Flags: 2, Segments: seg}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, payload, _, err := cgiproto.Next(cgiproto.AppendResponse(nil, &tt.resp))
			if err != nil {
				t.Fatal(err)
			}
			var r cgiproto.Response
			if err := cgiproto.DecodeResponse(payload, &r); !errors.Is(err, cgiproto.ErrCorrupt) {
				t.Errorf("%+v: got %v, want ErrCorrupt", tt.resp, err)
			}
		})
	}
}

// TestBuffered: a reader reports a whole buffered frame (so that a
// program knows it may answer it before writing what it has), and not a
// partial one.
func TestBuffered(t *testing.T) {
	two := cgiproto.AppendRequest(nil, sampleRequest())
	first := len(two)
	two = cgiproto.AppendRequest(two, sampleRequest())
	pr, pw := io.Pipe()
	defer pr.Close()
	go func() {
		pw.Write(two)
		pw.Write(two[:first+3]) // a third frame, then a fourth cut short
		pw.Close()
	}()
	r := cgiproto.NewReader(pr)
	if r.Buffered() {
		t.Fatal("Buffered before any read: got true, want false")
	}
	for i, want := range []bool{true, false} {
		if _, _, err := r.Next(); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got := r.Buffered(); got != want {
			t.Errorf("after frame %d of 2 read together: Buffered got %v, want %v", i, got, want)
		}
	}
	if _, _, err := r.Next(); err != nil {
		t.Fatalf("third frame: %v", err)
	}
	if r.Buffered() {
		t.Error("with a frame cut short buffered: got true, want false")
	}
}

// FuzzDecode feeds arbitrary bytes to the decoder: it must never panic,
// and whatever decodes must encode back to a frame that decodes equal.
func FuzzDecode(f *testing.F) {
	f.Add(cgiproto.AppendRequest(nil, sampleRequest()))
	f.Add(cgiproto.AppendResponse(nil, &cgiproto.Response{ID: 1, Status: 200, ContentType: []byte("text/plain"), Body: []byte("abc")}))
	f.Add(cgiproto.AppendRelease(nil, []cgiproto.Segment{{Offset: 4096, Length: 10}}))
	f.Add(cgiproto.AppendResponse(nil, &cgiproto.Response{ID: 2, Status: 200, Flags: cgiproto.FlagZeroCopy, Segments: []cgiproto.Segment{{Offset: 4096, Length: 10}}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		kind, payload, _, err := cgiproto.Next(data)
		if err != nil {
			return
		}
		switch kind {
		case cgiproto.KindRequest:
			var r, r2 cgiproto.Request
			if cgiproto.DecodeRequest(payload, &r) != nil {
				return
			}
			_, p2, _, err := cgiproto.Next(cgiproto.AppendRequest(nil, &r))
			if err != nil || cgiproto.DecodeRequest(p2, &r2) != nil || !sameRequest(&r, &r2) {
				t.Fatalf("request does not round-trip: %v", err)
			}
		case cgiproto.KindResponse:
			var r, r2 cgiproto.Response
			if cgiproto.DecodeResponse(payload, &r) != nil {
				return
			}
			_, p2, _, err := cgiproto.Next(cgiproto.AppendResponse(nil, &r))
			if err != nil || cgiproto.DecodeResponse(p2, &r2) != nil || r2.BodyLength() != r.BodyLength() || r2.Flags != r.Flags {
				t.Fatalf("response does not round-trip: %v", err)
			}
		case cgiproto.KindRelease:
			segs, err := cgiproto.DecodeRelease(payload, nil)
			if err != nil {
				return
			}
			segs2, err := cgiproto.DecodeRelease(cgiproto.AppendRelease(nil, segs)[cgiproto.HeaderSize:], nil)
			if err != nil || !reflect.DeepEqual(segs, segs2) {
				t.Fatalf("release does not round-trip: %v", err)
			}
		}
	})
}

// sameRequest compares decoded requests field by field (a nil and an
// empty slice are the same; varints may have been non-canonical).
func sameRequest(a, b *cgiproto.Request) bool {
	if a.ID != b.ID || !bytes.Equal(a.Method, b.Method) || !bytes.Equal(a.Path, b.Path) ||
		!bytes.Equal(a.Query, b.Query) || !bytes.Equal(a.Body, b.Body) || len(a.Headers) != len(b.Headers) {
		return false
	}
	for i := range a.Headers {
		if !bytes.Equal(a.Headers[i].Name, b.Headers[i].Name) || !bytes.Equal(a.Headers[i].Value, b.Headers[i].Value) {
			return false
		}
	}
	return true
}
