// Package app is the runtime of flashbench's persistent CGI programs: it
// reads request frames (cgiproto) from standard input, calls the
// program's handler, and writes response frames to standard output, one
// request at a time, for as long as the server keeps the pipe open. With a
// shared-memory pool (the IO-Lite path) the handler's body goes into pool
// pages and only its (offset, length) crosses the pipe.
//
// A program is a few lines:
//
//	func main() { app.Main(func(req *app.Request, resp *app.Response) { resp.Write(page(req)) }) }
package app

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"

	"flashbench/cgi-apps/cgiproto"
)

// EnvSharedMemory names the variable through which the server passes the
// pool: "FD:SIZE", the descriptor of the memfd and its size in bytes.
const EnvSharedMemory = "FLASHBENCH_CGI_SHM"

// Request is one request from the server.
type Request struct {
	cgiproto.Request
	query url.Values
}

// Query returns the first value of the query parameter name.
func (r *Request) Query(name string) string {
	if r.query == nil {
		r.query, _ = url.ParseQuery(string(r.Request.Query))
		if r.query == nil {
			r.query = url.Values{}
		}
	}
	return r.query.Get(name)
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
	if err := Run(os.Stdin, os.Stdout, h); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[0], err)
		os.Exit(1)
	}
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
// out, until in ends (nil) or an error. pool may be nil.
func Serve(in io.Reader, out io.Writer, pool *Pool, h Handler) error {
	s := &server{in: cgiproto.NewReader(in), out: bufio.NewWriterSize(out, 64<<10), pool: pool}
	for {
		kind, payload, err := s.in.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch kind {
		case cgiproto.KindRelease:
			if err := s.release(payload); err != nil {
				return err
			}
		case cgiproto.KindRequest:
			if err := s.serve(payload, h); err != nil {
				return err
			}
		default:
			return fmt.Errorf("app: unexpected frame kind %d", kind)
		}
	}
}

// server is the state of one Serve.
type server struct {
	in    *cgiproto.Reader
	out   *bufio.Writer
	pool  *Pool
	req   Request
	frame []byte // inline response: head room, then the body
	segs  []cgiproto.Segment
	head  []byte
}

// headRoom is the space kept before an inline body for the frame head, so
// that head and body leave in one write.
const headRoom = 256

func (s *server) serve(payload []byte, h Handler) error {
	s.req.query = nil
	if err := cgiproto.DecodeRequest(payload, &s.req.Request); err != nil {
		return fmt.Errorf("app: request: %w", err)
	}
	resp := Response{Status: 200, ContentType: "text/html", s: s}
	h(&s.req, &resp)
	return s.send(&resp)
}

// send writes resp's frame: the head and an inline body in one write, or
// the head with the pool segment.
func (s *server) send(resp *Response) error {
	r := cgiproto.Response{ID: s.req.ID, Status: resp.Status, ContentType: []byte(resp.ContentType)}
	bodyLen := len(resp.body)
	if resp.shm {
		r.Segments = append(s.segs[:0], cgiproto.Segment{Offset: uint64(resp.off), Length: uint64(bodyLen)})
		bodyLen = 0
	}
	s.head = cgiproto.AppendResponseHead(s.head[:0], &r, bodyLen)
	var err error
	if !resp.shm && resp.inFrame && len(s.head) <= headRoom {
		start := headRoom - len(s.head)
		copy(s.frame[start:], s.head)
		_, err = s.out.Write(s.frame[start : headRoom+bodyLen])
	} else {
		if _, err = s.out.Write(s.head); err == nil && !resp.shm {
			_, err = s.out.Write(resp.body)
		}
	}
	if err == nil {
		err = s.out.Flush()
	}
	if err != nil {
		return fmt.Errorf("app: write response: %w", err)
	}
	return nil
}

// release frees the pool pages the server handed back.
func (s *server) release(payload []byte) error {
	segs, err := cgiproto.DecodeRelease(payload, s.segs[:0])
	s.segs = segs[:0]
	if err != nil {
		return fmt.Errorf("app: release: %w", err)
	}
	for _, sg := range segs {
		if s.pool == nil || !s.pool.Free(int(sg.Offset), int(sg.Length)) {
			return fmt.Errorf("app: release of %d bytes at %d: not allocated", sg.Length, sg.Offset)
		}
	}
	return nil
}

// allocShared finds n bytes in the pool, reading the server's release
// frames until enough pages are free. Only releases can arrive meanwhile:
// the server sends a process its next request only after this response.
func (s *server) allocShared(n int) (int, error) {
	for {
		if off, ok := s.pool.Alloc(n); ok {
			return off, nil
		}
		kind, payload, err := s.in.Next()
		if err != nil {
			return 0, fmt.Errorf("app: wait for free pool pages: %w", err)
		}
		if kind != cgiproto.KindRelease {
			return 0, fmt.Errorf("app: got frame kind %d while waiting for free pool pages", kind)
		}
		if err := s.release(payload); err != nil {
			return 0, err
		}
	}
}
