package evloop_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/evloop"
	"flashbench/servers/internal/httpconn"
	"flashbench/servers/internal/listen"
)

// deferring answers "/timer/..." paths later from a timer and "/pipe/..."
// paths when a byte arrives on a pipe, the way a helper's completion
// would; every other path at once.
type deferring struct {
	l      *evloop.Loop
	core   *httpcore.Core
	pr, pw int
	queue  []pendingReq
}

type pendingReq struct {
	c   *evloop.Conn
	req *httpcore.Request
	p   *httpcore.Plan
}

func (d *deferring) Serve(c *evloop.Conn, req *httpcore.Request, p *httpcore.Plan) bool {
	path := string(req.Path)
	switch {
	case strings.HasPrefix(path, "/timer/"):
		d.l.After(20*time.Millisecond, func() {
			req.Path = req.Path[len("/timer"):] // req stays valid while pending
			d.core.Respond(req, p)
			d.l.Complete(c)
		})
		return false
	case strings.HasPrefix(path, "/pipe/"):
		req.Path = req.Path[len("/pipe"):]
		d.queue = append(d.queue, pendingReq{c, req, p})
		go unix.Write(d.pw, []byte{1}) // another thread, as a helper process would
		return false
	}
	d.core.Respond(req, p)
	return true
}

func (d *deferring) pipeReady(uint32) {
	var b [16]byte
	n, _ := unix.Read(d.pr, b[:])
	for range n {
		q := d.queue[0]
		d.queue = d.queue[1:]
		d.core.Respond(q.req, q.p)
		d.l.Complete(q.c)
	}
}

// TestHandlerComplete checks deferred answers through After and AddFd,
// in order on one pipelined connection and alone on others.
func TestHandlerComplete(t *testing.T) {
	root := conformance.Docroot(t)
	core, err := httpcore.New(httpcore.Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	lfd, addr, err := listen.TCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	h := &deferring{core: core, pr: p[0], pw: p[1]}
	l, err := evloop.New(lfd, core, h, httpconn.ServeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h.l = l
	if err := l.AddFd(h.pr, unix.EPOLLIN, h.pipeReady); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close() }) // after the loop's clean-up
	runLoop(t, l, lfd, p[0], p[1])
	want := conformance.File("500b.txt")
	tests := []struct {
		name  string
		paths []string
	}{
		{"timer", []string{"/timer/500b.txt"}},
		{"pipe", []string{"/pipe/500b.txt"}},
		{"pipelined mix in order", []string{"/500b.txt", "/timer/500b.txt", "/pipe/500b.txt", "/500b.txt", "/timer/nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(conformance.Timeout))
			var req bytes.Buffer
			for _, p := range tt.paths {
				fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", p)
			}
			c.Write(req.Bytes())
			r := bufio.NewReader(c)
			for _, p := range tt.paths {
				resp, err := http11(r)
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				wantStatus := 200
				if strings.HasSuffix(p, "nope") {
					wantStatus = 404
				}
				if resp.status != wantStatus || (wantStatus == 200 && !bytes.Equal(resp.body, want)) {
					t.Errorf("%s: got status %d, %d body bytes; want %d", p, resp.status, len(resp.body), wantStatus)
				}
			}
		})
	}
}

type resp struct {
	status int
	body   []byte
}

// http11 reads one response with a Content-Length body.
func http11(r *bufio.Reader) (*resp, error) {
	var out resp
	n := 0
	for i := 0; ; i++ {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if i == 0 {
			fmt.Sscanf(line, "HTTP/1.1 %d", &out.status)
			continue
		}
		if line == "" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			fmt.Sscan(v, &n)
		}
	}
	out.body = make([]byte, n)
	_, err := io.ReadFull(r, out.body)
	return &out, err
}

// runLoop runs l until the test ends, then shuts it down, checks what Run
// returned and closes fds (the listener first).
func runLoop(t *testing.T, l *evloop.Loop, fds ...int) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- l.Run() }()
	t.Cleanup(func() {
		l.Shutdown(time.Second)
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
}
