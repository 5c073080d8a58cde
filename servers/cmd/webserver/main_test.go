package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"flashbench/servers/internal/webtest"
)

func TestMain(m *testing.M) { webtest.Main(m) }

// server is a running webserver process (webtest.Server), with the short
// names these tests use.
type server struct {
	*webtest.Server
	addr string
	cmd  *exec.Cmd
}

// startServer runs the webserver binary with args plus --listen on a free
// loopback port and waits for its ready line; the process is stopped with
// SIGTERM (killed if it lingers) when the test ends.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	s := webtest.Start(t, args...)
	return &server{Server: s, addr: s.Addr, cmd: s.Cmd}
}

// stop sends SIGTERM and waits for the exit.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	return s.Stop(15 * time.Second)
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
