package threaded_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/proctree"
	"flashbench/servers/internal/webtest"
)

func TestMain(m *testing.M) { webtest.Main(m) }

// TestConformance runs the conformance suite against `webserver --arch
// threaded` over real sockets.
func TestConformance(t *testing.T) {
	root := conformance.Docroot(t)
	s := webtest.Start(t, "--arch", "threaded", "--root", root, "--threads", "8")
	conformance.Run(t, s.Addr, root)
}

// TestOSThreads checks that --threads N gives the process at least N
// kernel threads, and that N keep-alive connections are served at once.
func TestOSThreads(t *testing.T) {
	const n = 24
	root := conformance.Docroot(t)
	s := webtest.Start(t, "--arch", "threaded", "--root", root, "--threads", fmt.Sprint(n))
	var got int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		st, err := proctree.ReadStatus(s.Pid())
		if err != nil {
			t.Fatal(err)
		}
		if got = st.Threads; got >= n {
			break
		}
	}
	if got < n {
		t.Fatalf("got %d threads in /proc/%d/status, want at least %d", got, s.Pid(), n)
	}
	// Every thread holds one connection: n open keep-alive connections
	// must all be answered, none waiting for another to close.
	for i := range n {
		conn := dialKeepAlive(t, s.Addr)
		if status := get(t, conn); status != 200 {
			t.Fatalf("connection %d of %d: got status %d, want 200", i+1, n, status)
		}
	}
}

// TestGracefulShutdown checks SIGTERM: a keep-alive connection idle
// between requests is closed at once, the server exits 0, and the stats
// file is written.
func TestGracefulShutdown(t *testing.T) {
	root := conformance.Docroot(t)
	statsFile := filepath.Join(t.TempDir(), "stats.json")
	s := webtest.Start(t, "--arch", "threaded", "--root", root, "--threads", "4",
		"--stats-file", statsFile, "--shutdown-timeout", "10s")
	conn := dialKeepAlive(t, s.Addr)
	br := bufio.NewReader(conn)
	if status := getOn(t, conn, br); status != 200 {
		t.Fatalf("before SIGTERM: got status %d, want 200", status)
	}
	if err := s.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Idle between requests, the connection is closed at once, as nginx
	// closes it, well before the shutdown timeout.
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := br.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("idle keep-alive connection after SIGTERM: got %d bytes, %v; want EOF", n, err)
	}
	if err := s.Wait(10 * time.Second); err != nil {
		t.Fatalf("exit after the last connection closed: %v, want status 0", err)
	}
	if _, err := os.Stat(statsFile); err != nil {
		t.Fatalf("stats file: %v", err)
	}
}

// TestShutdownDeadline checks that a connection in the middle of a
// request (a header that never ends, under a header timeout far longer)
// does not hold the server past --shutdown-timeout: it is cut and the
// exit is 0.
func TestShutdownDeadline(t *testing.T) {
	root := conformance.Docroot(t)
	s := webtest.Start(t, "--arch", "threaded", "--root", root, "--threads", "4",
		"--shutdown-timeout", "500ms", "--header-timeout", "60s")
	conn := dialKeepAlive(t, s.Addr)
	if status := get(t, conn); status != 200 {
		t.Fatalf("got status %d, want 200", status)
	}
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(10 * time.Second); err != nil {
		t.Fatalf("SIGTERM with a request half sent: %v, want exit status 0", err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatalf("connection after shutdown: read %d bytes, want EOF or reset", n)
	}
}

func dialKeepAlive(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, conformance.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// get sends one keep-alive GET of 500b.txt on conn and checks the body.
func get(t *testing.T, conn net.Conn) int {
	t.Helper()
	return getOn(t, conn, bufio.NewReader(conn))
}

func getOn(t *testing.T, conn net.Conn, br *bufio.Reader) int {
	t.Helper()
	conn.SetDeadline(time.Now().Add(conformance.Timeout))
	if _, err := conn.Write([]byte("GET /500b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := conformance.ReadResponse(br, false)
	if err != nil {
		t.Fatal(err)
	}
	if p := conformance.Check("", conformance.Want{Status: 200}, resp); len(p) > 0 || string(resp.Body) != string(conformance.File("500b.txt")) {
		t.Fatalf("got %d %q, problems %v, want 200 with 500b.txt", resp.Status, resp.Body, p)
	}
	return resp.Status
}
