package uringloop_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/httpconn"
	"flashbench/servers/internal/listen"
	"flashbench/servers/internal/uring"
	"flashbench/servers/internal/uringloop"
)

// newLoop builds a loop on a fresh loopback listener, calls attach (if
// any) with it, runs it until the test ends, then shuts it down and
// checks what Run returned. It skips only when the machine refuses
// io_uring, and says which limit.
func newLoop(t testing.TB, core *httpcore.Core, h uringloop.Handler, opts httpconn.ServeOptions, attach ...func(*uringloop.Loop)) (*uringloop.Loop, string) {
	t.Helper()
	lfd, addr, err := listen.TCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := uringloop.New(lfd, core, h, opts)
	if errors.Is(err, uring.ErrUnavailable) {
		v, rerr := os.ReadFile("/proc/sys/kernel/io_uring_disabled")
		unix.Close(lfd)
		t.Skipf("io_uring is unavailable on this machine (kernel.io_uring_disabled = %q, %v): %v", strings.TrimSpace(string(v)), rerr, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range attach {
		fn(l)
	}
	done := make(chan error, 1)
	go func() { done <- l.Run() }()
	t.Cleanup(func() {
		l.Shutdown(time.Second)
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		unix.Close(lfd)
	})
	return l, addr
}

func newCore(t testing.TB, root string) *httpcore.Core {
	t.Helper()
	core, err := httpcore.New(httpcore.Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close() }) // after the loop's clean-up
	return core
}

// TestConformance runs the shared conformance table against the loop in
// this process.
func TestConformance(t *testing.T) {
	root := conformance.Docroot(t)
	_, addr := newLoop(t, newCore(t, root), nil, httpconn.ServeOptions{})
	conformance.Run(t, addr, root)
}

// TestConformanceZeroCopy runs the table with every response sent by
// zero-copy sendmsg, each released on its notification.
func TestConformanceZeroCopy(t *testing.T) {
	root := conformance.Docroot(t)
	l, addr := newLoop(t, newCore(t, root), nil, httpconn.ServeOptions{}, sendZC(t, 1))
	conformance.Run(t, addr, root)
	if rc := l.RingCounts(); rc.ZCSends == 0 || rc.ZCCopied > rc.ZCSends {
		t.Errorf("got %d zero-copy sends, %d copied after all; want some, and no more copied than sent", rc.ZCSends, rc.ZCCopied)
	}
}

// TestSendZCMin checks that --send-zc-min's threshold picks the sends:
// keep-alive requests for a 50 KB file go zero-copy, each body whole
// and in order, and those for a 500 B file are copied.
func TestSendZCMin(t *testing.T) {
	root := conformance.Docroot(t)
	l, addr := newLoop(t, newCore(t, root), nil, httpconn.ServeOptions{}, sendZC(t, 16<<10))
	c, r := dial(t, addr)
	const n = 20
	for i := range 2 * n {
		name := "50k.bin"
		if i%2 == 1 {
			name = "500b.txt"
		}
		io.WriteString(c, "GET /"+name+" HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := conformance.ReadResponse(r, false)
		if err != nil || resp.Status != 200 || !bytes.Equal(resp.Body, conformance.File(name)) {
			t.Fatalf("GET /%s: got %v, %v; want 200 and the file", name, resp, err)
		}
	}
	if rc := l.RingCounts(); rc.ZCSends != n {
		t.Errorf("%d requests for 50 KB and %d for 500 B: got %d zero-copy sends, want %d", n, n, rc.ZCSends, n)
	}
	// A response that ends its connection is not held back for the FIN:
	// corked, its notification would wait for the kernel's 200 ms push.
	for range 5 {
		start := time.Now()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(conformance.Timeout))
		io.WriteString(c, "GET /50k.bin HTTP/1.0\r\n\r\n")
		resp, err := conformance.ReadResponse(bufio.NewReader(c), false)
		c.Close()
		if err != nil || resp.Status != 200 || !bytes.Equal(resp.Body, conformance.File("50k.bin")) {
			t.Fatalf("GET /50k.bin HTTP/1.0: got %v, %v; want 200 and the file", resp, err)
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("GET /50k.bin HTTP/1.0, zero-copy: took %v, want well under the 200 ms push timer", d)
		}
	}
}

// sendZC returns a newLoop hook that sets the loop's zero-copy threshold.
func sendZC(t *testing.T, min int) func(*uringloop.Loop) {
	return func(l *uringloop.Loop) {
		if err := l.SetSendZCMin(min); err != nil {
			t.Fatal(err)
		}
	}
}

// deferring answers "/timer/..." paths later, from a timer, the way a
// disk read's completion would; every other path at once.
type deferring struct {
	l    *uringloop.Loop
	core *httpcore.Core
}

func (d *deferring) Serve(c *uringloop.Conn, req *httpcore.Request, p *httpcore.Plan) bool {
	if !bytes.HasPrefix(req.Path, []byte("/timer/")) {
		d.core.Respond(req, p)
		return true
	}
	d.l.After(20*time.Millisecond, func() {
		req.Path = req.Path[len("/timer"):] // req stays valid while pending
		d.core.Respond(req, p)
		d.l.Complete(c)
	})
	return false
}

// TestHandlerComplete checks deferred answers, in order on one pipelined
// connection and alone on another.
func TestHandlerComplete(t *testing.T) {
	root := conformance.Docroot(t)
	core := newCore(t, root)
	h := &deferring{core: core}
	_, addr := newLoop(t, core, h, httpconn.ServeOptions{}, func(l *uringloop.Loop) { h.l = l })
	want := conformance.File("500b.txt")
	for _, paths := range [][]string{
		{"/timer/500b.txt"},
		{"/500b.txt", "/timer/500b.txt", "/500b.txt", "/timer/nope", "/500b.txt"},
	} {
		t.Run(strings.Join(paths, ","), func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(conformance.Timeout))
			var req bytes.Buffer
			for _, p := range paths {
				fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", p)
			}
			c.Write(req.Bytes())
			r := bufio.NewReader(c)
			for _, p := range paths {
				resp, err := conformance.ReadResponse(r, false)
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				wantStatus := 200
				if strings.HasSuffix(p, "nope") {
					wantStatus = 404
				}
				if resp.Status != wantStatus || (wantStatus == 200 && !bytes.Equal(resp.Body, want)) {
					t.Errorf("%s: got status %d, %d body bytes; want %d", p, resp.Status, len(resp.Body), wantStatus)
				}
			}
		})
	}
}

// TestBigPipelined sends many pipelined requests for a big file while
// reading slowly, so that responses stall on a full socket, sends are
// partial and the connection's received buffers pile up past the bound
// at which its recv is cancelled and later re-armed: every response must
// come back whole and in order.
func TestBigPipelined(t *testing.T) {
	root := t.TempDir()
	big := conformance.Pattern(1<<20, 5)
	if err := os.WriteFile(root+"/big.bin", big, 0o644); err != nil {
		t.Fatal(err)
	}
	_, addr := newLoop(t, newCore(t, root), nil, httpconn.ServeOptions{})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 200 // 50 KB of requests: many more buffers than maxHeld
	req := []byte(strings.Repeat("GET /big.bin HTTP/1.1\r\nHost: x\r\nX-Pad: "+strings.Repeat("p", 200)+"\r\n\r\n", n))
	go c.Write(req)
	c.SetDeadline(time.Now().Add(4 * conformance.Timeout))
	r := bufio.NewReaderSize(c, 4096)
	for i := range n {
		resp, err := conformance.ReadResponse(r, false)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if resp.Status != 200 || !bytes.Equal(resp.Body, big) {
			t.Fatalf("response %d: got status %d, %d body bytes (equal %v); want 200 and big.bin", i, resp.Status, len(resp.Body), bytes.Equal(resp.Body, big))
		}
	}
}

// TestShutdownClosesIdle checks that Shutdown closes an idle keep-alive
// connection at once and that Run returns.
func TestShutdownClosesIdle(t *testing.T) {
	root := conformance.Docroot(t)
	core := newCore(t, root)
	lfd, addr, err := listen.TCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(lfd)
	l, err := uringloop.New(lfd, core, nil, httpconn.ServeOptions{})
	if errors.Is(err, uring.ErrUnavailable) {
		t.Skipf("io_uring is unavailable on this machine: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Run() }()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(conformance.Timeout))
	io.WriteString(c, "GET /500b.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	r := bufio.NewReader(c)
	if resp, err := conformance.ReadResponse(r, false); err != nil || resp.Status != 200 {
		t.Fatalf("before the shutdown: got %v, %v; want 200", resp, err)
	}
	l.Shutdown(10 * time.Second)
	start := time.Now()
	if _, err := r.ReadByte(); err != io.EOF {
		t.Errorf("idle connection after Shutdown: got %v, want EOF", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return 5s after Shutdown with no connection busy")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("shutdown with only an idle connection took %v, want well under its 10s deadline", d)
	}
}

// TestRingCounts checks the ring's traffic counts on a warm keep-alive
// connection: each request costs one sendmsg entry (the multishot recv
// stays armed) and two completions (its recv and its send); a few more
// may come from the loop's own operations (its wake-up poll).
func TestRingCounts(t *testing.T) {
	root := conformance.Docroot(t)
	l, addr := newLoop(t, newCore(t, root), nil, httpconn.ServeOptions{})
	c, r := dial(t, addr)
	get := func() {
		io.WriteString(c, "GET /500b.txt HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, err := conformance.ReadResponse(r, false); err != nil || resp.Status != 200 {
			t.Fatalf("GET: got %v, %v; want 200", resp, err)
		}
	}
	get()
	get() // the first request's recv was a single shot; the multishot armed after it stays
	before := l.RingCounts()
	const n = 100
	for range n {
		get()
	}
	after := l.RingCounts()
	sqes, cqes, enters := after.SQEs-before.SQEs, after.CQEs-before.CQEs, after.Enters-before.Enters
	if sqes != n || cqes < 2*n || cqes > 2*n+n/20 || enters < n {
		t.Errorf("%d keep-alive requests: got %d SQEs, %d CQEs, %d enters; want %d, %d to %d, and at least %d", n, sqes, cqes, enters, n, 2*n, 2*n+n/20, n)
	}
}

// TestRingCountsPerConnection checks what a connection that carries one
// request costs the ring: a recv, a sendmsg and a close submitted; the
// accept, the recv and the sendmsg completed. A multishot first recv
// would add a cancel each way.
func TestRingCountsPerConnection(t *testing.T) {
	root := conformance.Docroot(t)
	l, addr := newLoop(t, newCore(t, root), nil, httpconn.ServeOptions{})
	get := func() {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(conformance.Timeout))
		io.WriteString(c, "GET /500b.txt HTTP/1.0\r\n\r\n")
		resp, err := conformance.ReadResponse(bufio.NewReader(c), false)
		if err != nil || resp.Status != 200 {
			t.Fatalf("GET: got %v, %v; want 200", resp, err)
		}
		if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
			t.Fatalf("after the response: got %d bytes, %v; want the end of the stream", n, err)
		}
	}
	get()
	before := l.RingCounts()
	const n = 100
	for range n {
		get()
	}
	after := l.RingCounts()
	sqes, cqes := after.SQEs-before.SQEs, after.CQEs-before.CQEs
	if sqes < 3*n || sqes > 3*n+n/20 || cqes < 3*n || cqes > 3*n+n/20 {
		t.Errorf("%d connections of one request: got %d SQEs, %d CQEs; want %d to %d of each", n, sqes, cqes, 3*n, 3*n+n/20)
	}
}

// dial connects to addr under the conformance deadline; the connection
// closes when the test ends.
func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(conformance.Timeout))
	return c, bufio.NewReader(c)
}
