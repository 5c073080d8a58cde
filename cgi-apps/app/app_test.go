package app_test

import (
	"bytes"
	"io"
	"testing"

	"golang.org/x/sys/unix"

	"flashbench/cgi-apps/app"
	"flashbench/cgi-apps/cgiproto"
)

func TestPool(t *testing.T) {
	fd, err := unix.MemfdCreate("t", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	size := 4 * app.PageSize
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		t.Fatal(err)
	}
	p, err := app.MapPool(fd, size)
	if err != nil {
		t.Fatal(err)
	}
	a, ok1 := p.Alloc(2*app.PageSize - 1)
	b, ok2 := p.Alloc(app.PageSize)
	_, ok3 := p.Alloc(2 * app.PageSize)
	if !ok1 || !ok2 || ok3 || a == b {
		t.Fatalf("alloc: got %d %v, %d %v, third %v; want two distinct ranges, then none", a, ok1, b, ok2, ok3)
	}
	if p.Free(b, 1); !p.Free(a, 2*app.PageSize-1) {
		t.Fatal("free of an allocated range failed")
	}
	if p.Free(a, 1) {
		t.Error("double free succeeded")
	}
	if c, ok := p.Alloc(3 * app.PageSize); !ok || c != 0 {
		t.Errorf("after frees: got %d, %v; want 0, true", c, ok)
	}
	// First fit: a released buffer is the next one handed out, so the
	// program keeps writing the same warm pages.
	d, _ := p.Alloc(1)
	p.Free(0, 3*app.PageSize)
	if e, ok := p.Alloc(app.PageSize); !ok || e != 0 || d != 3*app.PageSize {
		t.Errorf("reuse after release: got %d, %v (other at %d); want 0, true (other at %d)", e, ok, d, 3*app.PageSize)
	}
}

// TestServeInline answers two requests over in-memory pipes.
func TestServeInline(t *testing.T) {
	var in bytes.Buffer
	for i, q := range []string{"a", "bbb"} {
		in.Write(cgiproto.AppendRequest(nil, &cgiproto.Request{ID: uint64(i + 1), Method: []byte("GET"), Query: []byte("x=" + q)}))
	}
	var out bytes.Buffer
	err := app.Serve(&in, &out, nil, func(req *app.Request, resp *app.Response) {
		resp.ContentType = "text/plain"
		resp.Write([]byte(req.Query("x")))
	})
	if err != nil {
		t.Fatal(err)
	}
	r := cgiproto.NewReader(&out)
	for i, want := range []string{"a", "bbb"} {
		kind, payload, err := r.Next()
		var resp cgiproto.Response
		if err != nil || kind != cgiproto.KindResponse || cgiproto.DecodeResponse(payload, &resp) != nil {
			t.Fatalf("response %d: kind %d, %v", i, kind, err)
		}
		if resp.ID != uint64(i+1) || resp.Status != 200 || string(resp.Body) != want || string(resp.ContentType) != "text/plain" {
			t.Errorf("response %d: got %+v, want id %d body %q", i, resp, i+1, want)
		}
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Errorf("got %v after the responses, want EOF", err)
	}
}
