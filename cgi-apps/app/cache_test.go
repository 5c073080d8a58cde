package app_test

import (
	"bytes"
	"io"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"flashbench/cgi-apps/app"
	"flashbench/cgi-apps/cgiproto"
)

// newPool makes a memfd of pages pages: the program's Pool, and the
// server's read-only view of the same pages.
func newPool(t *testing.T, pages int) (*app.Pool, []byte, int) {
	t.Helper()
	fd, err := unix.MemfdCreate("cache-test", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	size := pages * app.PageSize
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		t.Fatal(err)
	}
	p, err := app.MapPool(fd, size)
	if err != nil {
		t.Fatal(err)
	}
	view, err := unix.Mmap(fd, 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(view) })
	return p, view, fd
}

// fakeServer drives Serve as a server would: request and release frames
// in, response frames out.
type fakeServer struct {
	t    *testing.T
	in   *io.PipeWriter
	out  *cgiproto.Reader
	done chan error
	id   uint64
}

// startServe runs Serve on pool with a handler that answers
// key=K&size=N with N bytes of K's first letter, kept under K
// (Response.Cached), and size=0 with an empty inline body.
func startServe(t *testing.T, pool *app.Pool) *fakeServer {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &fakeServer{t: t, in: inW, out: cgiproto.NewReader(outR), done: make(chan error, 1)}
	go func() {
		err := app.Serve(inR, outW, pool, func(req *app.Request, resp *app.Response) {
			key := req.Query("key")
			n, _ := strconv.Atoi(req.Query("size"))
			if n == 0 || key == "" {
				resp.Write(nil)
				return
			}
			resp.Cached(key, n, func(b []byte) { fill(b, key[0]) })
		})
		inR.CloseWithError(err)
		outW.CloseWithError(err)
		s.done <- err
	}()
	t.Cleanup(func() { inW.Close() })
	return s
}

func fill(b []byte, c byte) {
	for i := range b {
		b[i] = c
	}
}

// get asks for key and size and returns the response.
func (s *fakeServer) get(key string, size int) cgiproto.Response {
	s.t.Helper()
	s.id++
	q := "key=" + key + "&size=" + strconv.Itoa(size)
	if _, err := s.in.Write(cgiproto.AppendRequest(nil, &cgiproto.Request{ID: s.id, Method: []byte("GET"), Query: []byte(q)})); err != nil {
		s.t.Fatalf("request %s: %v", q, err)
	}
	resp := nextResponse(s.t, s.out)
	if resp.ID != s.id {
		s.t.Fatalf("request %s: got response id %d, want %d", q, resp.ID, s.id)
	}
	return resp
}

// release hands seg back, as a server does once it has sent it.
func (s *fakeServer) release(seg cgiproto.Segment) {
	s.t.Helper()
	if _, err := s.in.Write(cgiproto.AppendRelease(nil, []cgiproto.Segment{seg})); err != nil {
		s.t.Fatalf("release %v: %v", seg, err)
	}
}

// segment returns the one zero-copy segment of resp.
func segment(t *testing.T, resp cgiproto.Response) cgiproto.Segment {
	t.Helper()
	if len(resp.Segments) != 1 || resp.Flags != cgiproto.FlagZeroCopy {
		t.Fatalf("response %d: got segments %v flags %d, want one zero-copy segment", resp.ID, resp.Segments, resp.Flags)
	}
	return resp.Segments[0]
}

// TestCachedBuffer: a kept body is one immutable buffer handed out for
// every response; while a response references it, nothing rewrites its
// pages, not even once the cache has let it go; with the last reference
// released, its pages are detached from the pool (a socket that still
// holds them keeps them) and the range is free again.
func TestCachedBuffer(t *testing.T) {
	const size = 40000 // 10 pages of 4 KiB
	pool, view, _ := newPool(t, 64)
	s := startServe(t, pool)
	var held []cgiproto.Segment
	for range 3 {
		held = append(held, segment(t, s.get("a", size)))
	}
	a := held[0]
	if held[1] != a || held[2] != a {
		t.Fatalf("three responses of key a: got segments %v, want the same buffer each time", held)
	}
	want := bytes.Repeat([]byte("a"), size)
	if !bytes.Equal(view[a.Offset:a.Offset+a.Length], want) {
		t.Fatal("buffer of key a: got other bytes, want 'a' throughout")
	}
	// Other keys push a out of the cache (it holds half the pool) and
	// reuse pages all the time: a's pages, still referenced three times,
	// must stay as they are.
	for i := range 12 {
		key := string(rune('b' + i))
		seg := segment(t, s.get(key, size))
		if seg.Offset < a.Offset+a.Length && a.Offset < seg.Offset+seg.Length {
			t.Fatalf("key %s: got segment %v, overlapping %v, still referenced by key a's responses", key, seg, a)
		}
		s.release(seg)
		if !bytes.Equal(view[a.Offset:a.Offset+a.Length], want) {
			t.Fatalf("after key %s: the referenced buffer of key a was rewritten", key)
		}
	}
	for _, seg := range held {
		s.release(seg)
	}
	s.get("", 0) // the releases before it are handled by now
	if n := bytes.Count(view[a.Offset:a.Offset+a.Length], []byte{0}); n != size {
		t.Errorf("key a's range after its last release: got %d zero bytes, want %d (pages detached)", n, size)
	}
	s.release(a) // one release too many: a broken server
	s.in.Close()
	if err := <-s.done; err == nil {
		t.Error("serve after a release of a free range: got nil, want an error")
	}
}

// TestCachedBufferStaysCached: a kept body is answered without being
// filled again for as long as the cache keeps it.
func TestCachedBufferStaysCached(t *testing.T) {
	pool, view, _ := newPool(t, 16)
	s := startServe(t, pool)
	first := segment(t, s.get("x", 100))
	s.release(first)
	s.get("", 0)
	if got := view[first.Offset : first.Offset+first.Length]; !bytes.Equal(got, bytes.Repeat([]byte("x"), 100)) {
		t.Fatalf("cached buffer after its response was released: got %q, want it kept", got)
	}
	if again := segment(t, s.get("x", 100)); again != first {
		t.Errorf("second response of key x: got segment %v, want the kept %v", again, first)
	}
}

// TestDetachKeepsSentPages shows what Detach is for: pages sent by
// reference (here spliced into a pipe with sendfile, as the server sends
// a zero-copy buffer into a socket) keep their bytes for the reader when
// the range is detached and rewritten. Rewritten in place without the
// detach, every new byte reaches the reader: the pipe holds the pool's own
// pages. That case is the control of the first: were the send a copy, the
// detached case would pass whatever Detach did.
func TestDetachKeepsSentPages(t *testing.T) {
	for _, detach := range []bool{true, false} {
		t.Run("detach="+strconv.FormatBool(detach), func(t *testing.T) {
			pool, _, fd := newPool(t, 4)
			n := 2 * app.PageSize
			buf := pool.Bytes(0, n)
			fill(buf, 'A')
			var p [2]int
			if err := unix.Pipe(p[:]); err != nil {
				t.Fatal(err)
			}
			defer unix.Close(p[0])
			defer unix.Close(p[1])
			off := int64(0)
			if k, err := unix.Sendfile(p[1], fd, &off, n); err != nil || k != n {
				t.Fatalf("sendfile into a pipe: got %d, %v; want %d", k, err, n)
			}
			if detach {
				if err := pool.Detach(0, n); err != nil {
					t.Fatal(err)
				}
				if z := bytes.Count(buf, []byte{0}); z != n {
					t.Fatalf("after detach: got %d zero bytes in the range, want %d", z, n)
				}
			}
			fill(buf, 'B')
			got := make([]byte, n)
			if _, err := io.ReadFull(pipeReader(p[0]), got); err != nil {
				t.Fatal(err)
			}
			want := 0
			if !detach {
				want = n
			}
			if rewritten := bytes.Count(got, []byte("B")); rewritten != want {
				t.Errorf("sent with sendfile, detach %v, then rewritten: got %d of %d bytes rewritten at the reader, want %d",
					detach, rewritten, n, want)
			}
		})
	}
}

type pipeReader int

func (r pipeReader) Read(b []byte) (int, error) { return unix.Read(int(r), b) }
