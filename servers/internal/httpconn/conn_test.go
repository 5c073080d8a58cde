package httpconn_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/internal/httpconn"
)

// body is the one file of the test document root, /a.txt.
var body = strings.Repeat("flashbench ", 100)

// newCore returns a core over a document root holding /a.txt.
func newCore(t testing.TB, sendFile bool) *httpcore.Core {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "a.txt"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	core, err := httpcore.New(httpcore.Config{Root: root, SendFile: sendFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close() })
	return core
}

// peer is a simulated socket: the input the client sends, in reads of at
// most chunk bytes, and everything the connection wrote.
type peer struct {
	in    []byte
	chunk int
	out   bytes.Buffer
	reads int
}

// drive runs c the way a blocking wait strategy does, until it must wait
// for input the peer does not have (StepRead, StepBody) or finishes. It
// returns the last step.
func drive(t testing.TB, core *httpcore.Core, c *httpconn.Conn, p *peer, now int64) httpconn.Step {
	t.Helper()
	for range 10000 {
		step := c.Next(now)
		switch step {
		case httpconn.StepRead:
			if len(p.in) == 0 {
				return step
			}
			buf := c.ReadBuffer()
			if buf == nil {
				c.Fail(431)
				continue
			}
			n := copy(buf, p.in[:min(len(p.in), p.chunk)])
			p.in = p.in[n:]
			p.reads++
			c.Received(n, now)
		case httpconn.StepRequest:
			core.Respond(c.Request(), c.Plan())
			c.Queue(now)
		case httpconn.StepBody:
			if len(p.in) == 0 {
				return step
			}
			n := copy(c.BodyBuffer(), p.in)
			p.in = p.in[n:]
			c.BodyReceived(n)
		case httpconn.StepSend:
			for {
				iov := c.Iovecs()
				if len(iov) == 0 {
					break
				}
				n := 0
				for _, v := range iov {
					p.out.Write(unsafe.Slice(v.Base, v.Len))
					n += int(v.Len)
				}
				c.Advance(n)
			}
			for {
				fd, off, n := c.SendFile()
				if n == 0 {
					break
				}
				buf := make([]byte, n)
				k, err := unix.Pread(fd, buf, *off)
				if err != nil || k == 0 {
					t.Fatalf("pread of the sendfile range: %d, %v", k, err)
				}
				p.out.Write(buf[:k])
				*off += int64(k)
				c.FileSent(k)
			}
			c.Sent()
		default: // StepFinish, StepWait
			return step
		}
	}
	t.Fatal("the connection made no progress in 10000 steps")
	return 0
}

// responses splits the output into responses by their status lines and
// returns the status codes.
func responses(out string) []string {
	var codes []string
	for _, part := range strings.Split(out, "HTTP/1.1 ")[1:] {
		codes = append(codes, part[:3])
	}
	return codes
}

func newConn(srv *httpconn.Server, now int64) *httpconn.Conn {
	c := new(httpconn.Conn)
	srv.Init(c)
	c.Start(now)
	return c
}

func TestPipelining(t *testing.T) {
	get := "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
	tests := []struct {
		name      string
		in        string
		chunk     int
		sendFile  bool
		batch     int
		wantCodes string
		wantLast  httpconn.Step
	}{
		{"one request", get, 4096, false, httpconn.MaxBatch, "200", httpconn.StepRead},
		{"three pipelined in one read", get + get + get, 4096, false, httpconn.MaxBatch, "200 200 200", httpconn.StepRead},
		{"three pipelined, byte by byte", get + get + get, 1, false, httpconn.MaxBatch, "200 200 200", httpconn.StepRead},
		{"batch of one", get + get + get, 4096, false, 1, "200 200 200", httpconn.StepRead},
		{"sendfile bodies", get + get, 4096, true, httpconn.MaxBatch, "200 200", httpconn.StepRead},
		{"missing file, then one", "GET /none HTTP/1.1\r\nHost: x\r\n\r\n" + get, 4096, false, httpconn.MaxBatch, "404 200", httpconn.StepRead},
		{"close ends it", "GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + get, 4096, false, httpconn.MaxBatch, "200", httpconn.StepFinish},
		{"HTTP/1.0 ends it", "GET /a.txt HTTP/1.0\r\n\r\n" + get, 4096, false, httpconn.MaxBatch, "200", httpconn.StepFinish},
		{"garbage gets 400 and ends it", "BLAH\r\n\r\n" + get, 4096, false, httpconn.MaxBatch, "400", httpconn.StepFinish},
		{"body skipped", "POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 14\r\n\r\nGET /none HTTP" + get, 3, false, httpconn.MaxBatch, "405 200", httpconn.StepRead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core := newCore(t, tt.sendFile)
			srv := httpconn.New(core, httpconn.ServeOptions{}, tt.batch)
			c := newConn(srv, 0)
			p := &peer{in: []byte(tt.in), chunk: tt.chunk}
			last := drive(t, core, c, p, 0)
			codes := strings.Join(responses(p.out.String()), " ")
			if codes != tt.wantCodes || last != tt.wantLast {
				t.Fatalf("input %q: got statuses %q ending in step %d, want %q ending in %d", tt.in, codes, last, tt.wantCodes, tt.wantLast)
			}
			if strings.HasPrefix(tt.wantCodes, "200") && !strings.Contains(p.out.String(), "\r\n\r\n"+body) {
				t.Errorf("input %q: the body of /a.txt is not in the output %.200q", tt.in, p.out.String())
			}
		})
	}
}

func TestBufferGrowsToTheHeaderBound(t *testing.T) {
	core := newCore(t, false)
	lim := core.Config().Limits.WithDefaults()
	srv := httpconn.New(core, httpconn.ServeOptions{ReadBufferSize: 64}, 1)
	maxBuf := httpconn.MaxHeaderBytes(lim)

	// A long but valid header grows the buffer past its initial 64 bytes.
	long := "GET /a.txt HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("p", 1000) + "\r\n\r\n"
	c := newConn(srv, 0)
	p := &peer{in: []byte(long), chunk: 100}
	if last := drive(t, core, c, p, 0); last != httpconn.StepRead {
		t.Fatalf("a %d-byte header: got step %d, want StepRead", len(long), last)
	}
	if got := strings.Join(responses(p.out.String()), " "); got != "200" {
		t.Fatalf("a %d-byte header: got statuses %q, want 200", len(long), got)
	}

	// Input that never ends its header stops at the bound: 431, close.
	c = newConn(srv, 0)
	endless := "GET /a.txt HTTP/1.1\r\n" + strings.Repeat("X-Pad: p\r\n", maxBuf)
	p = &peer{in: []byte(endless), chunk: 4096}
	last := drive(t, core, c, p, 0)
	if got := strings.Join(responses(p.out.String()), " "); last != httpconn.StepFinish || (got != "431" && got != "400") {
		t.Fatalf("an endless header: got statuses %q ending in step %d, want 431 (or 400 from the parser) and StepFinish", got, last)
	}
	if read := len(endless) - len(p.in); read > maxBuf+4096 {
		t.Errorf("an endless header: read %d bytes before refusing it, want at most the bound %d (+ one read)", read, maxBuf)
	}
	if !c.Unread() {
		t.Errorf("an endless header: Unread() = false after the error response, want true (linger before close)")
	}
}

func TestReadDeadlines(t *testing.T) {
	core := newCore(t, false)
	o := httpconn.ServeOptions{HeaderTimeout: 3 * time.Second, IdleTimeout: 7 * time.Second}
	srv := httpconn.New(core, o, httpconn.MaxBatch)
	const start = int64(1000)
	c := newConn(srv, start)

	if w, d := c.ReadDeadline(start + 5); w != httpconn.WaitHeader || d != start+int64(o.HeaderTimeout) {
		t.Errorf("new connection: got (%d, %d), want WaitHeader until start+HeaderTimeout %d", w, d, start+int64(o.HeaderTimeout))
	}
	if c.TimedOut() {
		t.Errorf("new connection, nothing received: TimedOut() = true (a 408), want false (close without an answer)")
	}

	p := &peer{in: []byte("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"), chunk: 4096}
	now := start + 100
	drive(t, core, c, p, now)
	if w, d := c.ReadDeadline(now + 9); w != httpconn.WaitIdle || d != now+9+int64(o.IdleTimeout) {
		t.Errorf("after a response: got (%d, %d), want WaitIdle until now+IdleTimeout %d", w, d, now+9+int64(o.IdleTimeout))
	}
	if !c.Idle() || c.MidRequest() {
		t.Errorf("after a response: Idle() = %v, MidRequest() = %v, want true, false", c.Idle(), c.MidRequest())
	}

	// Half a header: the deadline runs from its first byte, and a time
	// out answers 408.
	p.in = []byte("GET /a.txt HTTP/1.1\r\nHo")
	began := now + 50
	drive(t, core, c, p, began)
	if w, d := c.ReadDeadline(began + 1000); w != httpconn.WaitHeader || d != began+int64(o.HeaderTimeout) {
		t.Errorf("half a header: got (%d, %d), want WaitHeader until its first byte+HeaderTimeout %d", w, d, began+int64(o.HeaderTimeout))
	}
	if !c.MidRequest() {
		t.Errorf("half a header: MidRequest() = false, want true")
	}
	if !c.TimedOut() {
		t.Fatalf("half a header timed out: TimedOut() = false, want true (a 408)")
	}
	p.out.Reset()
	if last := drive(t, core, c, p, began); last != httpconn.StepFinish || !strings.HasPrefix(p.out.String(), "HTTP/1.1 408") {
		t.Errorf("after the time out: got %.40q ending in step %d, want a 408 and StepFinish", p.out.String(), last)
	}
}

func TestDefaults(t *testing.T) {
	got := httpconn.ServeOptions{HeaderTimeout: -1}.WithDefaults()
	want := httpconn.ServeOptions{HeaderTimeout: httpconn.DefaultHeaderTimeout, IdleTimeout: httpconn.DefaultIdleTimeout,
		WriteTimeout: httpconn.DefaultWriteTimeout, ReadBufferSize: httpconn.DefaultReadBufferSize}
	if got != want {
		t.Errorf("WithDefaults of a zero (and negative) ServeOptions: got %+v, want %+v", got, want)
	}
	set := httpconn.ServeOptions{HeaderTimeout: 1, IdleTimeout: 2, WriteTimeout: 3, ReadBufferSize: 4, MaxConns: 5}
	if got := set.WithDefaults(); got != set {
		t.Errorf("WithDefaults of %+v: got %+v, want it unchanged", set, got)
	}
}

func TestRaw(t *testing.T) {
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	fn := func(in []byte) (int, []byte, bool) {
		i := bytes.Index(in, []byte("\r\n\r\n"))
		if i < 0 {
			return 0, nil, false
		}
		return i + 4, resp, bytes.HasPrefix(in, []byte("QUIT"))
	}
	srv := httpconn.NewRaw(fn, 64, httpconn.ServeOptions{ReadBufferSize: 16}, httpconn.MaxBatch)
	c := newConn(srv, 0)
	p := &peer{in: []byte("A\r\n\r\nB\r\n\r\nQUIT\r\n\r\nC\r\n\r\n"), chunk: 3}
	if last := drive(t, nil, c, p, 0); last != httpconn.StepFinish {
		t.Fatalf("raw: got step %d, want StepFinish after QUIT", last)
	}
	if got, want := p.out.String(), strings.Repeat(string(resp), 3); got != want {
		t.Errorf("raw: got output %q, want three responses %q", got, want)
	}
	// A request longer than maxRequest overflows: ReadBuffer returns nil.
	c = newConn(srv, 0)
	c.Received(copy(c.ReadBuffer(), strings.Repeat("x", 16)), 0)
	for i := 0; i < 10 && c.ReadBuffer() != nil; i++ {
		buf := c.ReadBuffer()
		c.Received(copy(buf, strings.Repeat("x", len(buf))), 0)
		if c.Next(0) != httpconn.StepRead {
			t.Fatalf("raw, incomplete request: Next is not StepRead")
		}
	}
	if c.ReadBuffer() != nil {
		t.Errorf("raw: a request past maxRequest 64 still gets a read buffer, want nil")
	}
}

// FuzzConn feeds arbitrary input to a connection in reads of two sizes:
// whatever the input, the connection ends or waits for more within
// bounded steps, and how the input was cut changes nothing it answers.
func FuzzConn(f *testing.F) {
	for _, s := range []string{
		"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /a.txt HTTP/1.0\r\n\r\n",
		"POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"\r\n\r\nGET /none HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
		"BLAH\r\n\r\n",
	} {
		f.Add([]byte(s), uint8(1))
	}
	core := newCore(f, false)
	srv := httpconn.New(core, httpconn.ServeOptions{ReadBufferSize: 32}, 4)
	date := regexp.MustCompile(`Date: [^\r]*\r\n`)
	run := func(t *testing.T, in []byte, chunk int) (string, httpconn.Step) {
		c := newConn(srv, 0)
		p := &peer{in: in, chunk: chunk}
		last := drive(t, core, c, p, 0)
		c.Reset()
		return date.ReplaceAllString(p.out.String(), ""), last
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8) {
		whole, lastWhole := run(t, in, len(in)+1)
		cut, lastCut := run(t, in, int(chunk)%7+1)
		if whole != cut || lastWhole != lastCut {
			t.Fatalf("input %q: in one read got %.300q ending in step %d; in reads of %d got %.300q ending in %d",
				in, whole, lastWhole, int(chunk)%7+1, cut, lastCut)
		}
		if whole != "" && !strings.HasPrefix(whole, "HTTP/1.1 ") {
			t.Fatalf("input %q: output does not start with a status line: %.100q", in, whole)
		}
	})
}
