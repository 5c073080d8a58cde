package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the webserver built once for the tests that run real
// processes.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "webserver-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "webserver")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gobin, "build", "-o", binary, "flashbench/servers/cmd/webserver").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build webserver: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// lockedBuffer collects a child's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// server is a running webserver process.
type server struct {
	addr   string
	cmd    *exec.Cmd
	done   chan struct{}
	err    error // Wait's result, once done is closed
	stderr *lockedBuffer
}

// startServer runs the webserver binary with args plus --listen on a free
// loopback port, waits for its ready line and returns it. The process is
// stopped with SIGTERM (killed if it lingers) when the test ends.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append(args, "--listen", "127.0.0.1:0")...)
	s := &server{cmd: cmd, done: make(chan struct{}), stderr: &lockedBuffer{}}
	cmd.Stderr = s.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start webserver: %v", err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, addr, ok := strings.Cut(sc.Text(), " listening on "); ok {
				ready <- addr
			}
		}
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-s.done
			t.Errorf("webserver ignored SIGTERM for 10s; killed")
		}
		if e := s.stderr.String(); e != "" {
			t.Logf("webserver stderr:\n%s", e)
		}
	})
	select {
	case s.addr = <-ready:
		return s
	case <-s.done:
		t.Fatalf("webserver exited before it was ready: %v; stderr: %s", s.err, s.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("webserver printed no ready line within 30s; stderr: %s", s.stderr.String())
	}
	return nil
}

// stop sends SIGTERM and waits for the exit.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return s.err
	case <-time.After(15 * time.Second):
		t.Fatalf("webserver did not exit within 15s of SIGTERM")
		return nil
	}
}

// dial connects to s, failing the test on error, and closes the
// connection when the test ends.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// response is one parsed HTTP response.
type response struct {
	status int
	header map[string]string
	body   []byte
}

// readResponse reads one response with a Content-Length body (or none).
func readResponse(r *bufio.Reader, head bool) (*response, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("read status line: %w", err)
	}
	var resp response
	if _, err := fmt.Sscanf(line, "HTTP/1.1 %d", &resp.status); err != nil {
		return nil, fmt.Errorf("status line %q: %w", line, err)
	}
	resp.header = map[string]string{}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("read header: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		k, v, _ := strings.Cut(line, ":")
		resp.header[strings.ToLower(k)] = strings.TrimSpace(v)
	}
	var n int
	fmt.Sscan(resp.header["content-length"], &n)
	if head {
		return &resp, nil
	}
	resp.body = make([]byte, n)
	if _, err := io.ReadFull(r, resp.body); err != nil {
		return nil, fmt.Errorf("read body of %d bytes: %w", n, err)
	}
	return &resp, nil
}

// expectEOF checks that the server closed c (or reset it) within d.
func expectEOF(t *testing.T, c net.Conn, r io.Reader, d time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	n, err := io.Copy(io.Discard, r)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %v (read %d bytes)", d, n)
	}
}
