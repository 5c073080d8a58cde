// Package app is the runtime of flashbench's persistent CGI programs: it
// reads request frames (cgiproto) from standard input, calls the
// program's handler for each in turn, and writes response frames to
// standard output, for as long as the server keeps the pipe open. The
// requests that arrive together are answered with one write. With a
// shared-memory pool (the IO-Lite path) the handler's body goes into pool
// pages and only its (offset, length) crosses the pipe; a body the
// program keeps (Response.Cached) is written once and its same immutable
// pages are handed out for every response.
//
// A program is a few lines:
//
//	func main() { app.Main(func(req *app.Request, resp *app.Response) { resp.Write(page(req)) }) }
package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"flashbench/cgi-apps/cgiproto"
)

// EnvSharedMemory names the variable through which the server passes the
// pool: "FD:SIZE", the descriptor of the memfd and its size in bytes.
const EnvSharedMemory = "FLASHBENCH_CGI_SHM"

// Request is one request from the server.
type Request struct {
	cgiproto.Request
}

// Query returns the first value of the query parameter name, as
// url.ParseQuery(query).Get(name) would, without building the map: a
// program looks up a parameter or two per request.
func (r *Request) Query(name string) string {
	q := r.Request.Query
	for len(q) > 0 {
		var pair []byte
		pair, q, _ = bytes.Cut(q, []byte("&"))
		if len(pair) == 0 || bytes.IndexByte(pair, ';') >= 0 {
			continue // url.ParseQuery skips empty and ';' pairs
		}
		k, v, _ := bytes.Cut(pair, []byte("="))
		if key, ok := unescape(k); !ok || key != name {
			continue
		}
		if val, ok := unescape(v); ok {
			return val
		}
	}
	return ""
}

// unescape decodes a query component; false for a bad escape.
func unescape(b []byte) (string, bool) {
	if bytes.IndexByte(b, '%') < 0 && bytes.IndexByte(b, '+') < 0 {
		return string(b), true
	}
	s, err := url.QueryUnescape(string(b))
	return s, err == nil
}

// Header returns the value of the first request header field name
// (case-insensitive), or "".
func (r *Request) Header(name string) string {
	for _, h := range r.Headers {
		if strings.EqualFold(string(h.Name), name) {
			return string(h.Value)
		}
	}
	return ""
}

// Handler answers one request by filling resp.
type Handler func(req *Request, resp *Response)

// Main runs h on standard input and output with the pool named by
// EnvSharedMemory, if any, and exits: 0 when the server closed the pipe,
// 1 with a message on any other error.
func Main(h Handler) {
	if err := Run(pollable(os.Stdin), pollable(os.Stdout), h); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[0], err)
		os.Exit(1)
	}
}

// pollable returns f switched to non-blocking mode, so that the runtime
// waits for it in its network poller: a goroutine blocked in a read
// system call leaves its P to be retaken by the runtime's monitor thread
// every few tens of microseconds, which with GOMAXPROCS=1 (a program
// pinned to one core) costs a context switch or two per request. f is
// returned unchanged when it cannot be switched.
func pollable(f *os.File) *os.File {
	fd := int(f.Fd())
	if err := unix.SetNonblock(fd, true); err != nil {
		return f
	}
	return os.NewFile(uintptr(fd), f.Name())
}

// Run serves requests from in until it ends, mapping the pool named by
// EnvSharedMemory when the server set it.
func Run(in io.Reader, out io.Writer, h Handler) error {
	var pool *Pool
	if v := os.Getenv(EnvSharedMemory); v != "" {
		fdStr, sizeStr, _ := strings.Cut(v, ":")
		fd, err1 := strconv.Atoi(fdStr)
		size, err2 := strconv.Atoi(sizeStr)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("app: %s=%q: want FD:SIZE", EnvSharedMemory, v)
		}
		if pool, err1 = MapPool(fd, size); err1 != nil {
			return err1
		}
	}
	return Serve(in, out, pool, h)
}

// Serve answers the requests read from in with h, writing responses to
// out, until in ends (nil) or an error. pool may be nil. Requests that
// arrive together are answered together: the responses are written with
// one writev once no whole request is left in the input buffer.
func Serve(in io.Reader, out io.Writer, pool *Pool, h Handler) error {
	s := &server{in: cgiproto.NewReader(reader(in)), out: newBatch(out), pool: pool, cache: newCache(pool)}
	for {
		if !s.in.Buffered() || s.out.full() {
			if err := s.out.flush(); err != nil {
				return err
			}
		}
		kind, payload, err := s.in.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch kind {
		case cgiproto.KindRelease:
			err = s.release(payload)
		case cgiproto.KindRequest:
			err = s.serve(payload, h)
		default:
			err = fmt.Errorf("app: unexpected frame kind %d", kind)
		}
		if err != nil {
			return err
		}
	}
}

// server is the state of one Serve.
type server struct {
	in    *cgiproto.Reader
	out   *batch
	pool  *Pool
	cache *cache
	req   Request
	segs  []cgiproto.Segment
	err   error // a failure of the pool, reported after the handler
}

// fail records a pool failure: Serve ends with it after this response.
func (s *server) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

func (s *server) serve(payload []byte, h Handler) error {
	if err := cgiproto.DecodeRequest(payload, &s.req.Request); err != nil {
		return fmt.Errorf("app: request: %w", err)
	}
	resp := Response{Status: 200, ContentType: "text/html", s: s, off: -1}
	h(&s.req, &resp)
	if s.err != nil {
		return s.err
	}
	s.queue(&resp)
	return nil
}

// queue adds resp's frame to the batch: the head, then the body, inline
// or as its pool segment (flagged zero-copy for a cached buffer, which is
// never rewritten in place).
func (s *server) queue(resp *Response) {
	r := cgiproto.Response{ID: s.req.ID, Status: resp.Status, ContentType: []byte(resp.ContentType)}
	inline := resp.body
	switch {
	case resp.buf != nil && resp.buf.off >= 0:
		r.Flags = cgiproto.FlagZeroCopy
		r.Segments = append(s.segs[:0], cgiproto.Segment{Offset: uint64(resp.buf.off), Length: uint64(len(resp.body))})
		inline = nil
	case resp.off >= 0:
		r.Segments = append(s.segs[:0], cgiproto.Segment{Offset: uint64(resp.off), Length: uint64(len(resp.body))})
		inline = nil
	}
	// A head longer than headRoom (a long content type) outgrows its
	// arena slice into a heap one of its own, as valid until the flush.
	s.out.add(cgiproto.AppendResponseHead(s.out.alloc(headRoom)[:0], &r, len(inline)))
	s.out.add(inline)
}

// headRoom is the arena space taken for a frame head.
const headRoom = 128

// release handles a release frame: pool segments the server no longer
// needs.
func (s *server) release(payload []byte) error {
	segs, err := cgiproto.DecodeRelease(payload, s.segs[:0])
	s.segs = segs[:0]
	if err != nil {
		return fmt.Errorf("app: release: %w", err)
	}
	for _, sg := range segs {
		ok := false
		if s.pool != nil && sg.Offset <= uint64(s.pool.Size()) && sg.Length <= uint64(s.pool.Size()) {
			if ok, err = s.cache.release(int(sg.Offset), int(sg.Length)); err != nil {
				return err
			}
		}
		if !ok {
			return fmt.Errorf("app: release of %d bytes at %d: not allocated", sg.Length, sg.Offset)
		}
	}
	return nil
}
