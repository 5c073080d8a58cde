// Package webtest runs the real webserver binary for the tests of the
// server architecture packages: it builds the binary once per test
// binary, starts it on a free loopback port, and stops it with SIGTERM.
package webtest

import (
	"bufio"
	"bytes"
	"fmt"
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

// Packages are the commands Main builds: the webserver and the programs it
// starts (forking's webserver-child), which it finds next to itself.
const Packages = "flashbench/servers/cmd/..."

// Main builds the webserver and its programs into a temporary directory, runs the tests
// with Binary set, removes the directory and exits. Call it from TestMain.
func Main(m *testing.M) {
	dir, err := os.MkdirTemp("", "webtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	Binary = filepath.Join(dir, "webserver")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gobin, "build", "-o", dir+"/", Packages).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "webtest: build %s: %v\n%s", Packages, err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Binary is the webserver that Main built.
var Binary string

// Server is a running webserver process.
type Server struct {
	// Addr is the address it listens on.
	Addr string
	// Cmd is the process.
	Cmd    *exec.Cmd
	done   chan struct{}
	err    error // Wait's result, once done is closed
	stderr *LockedBuffer
}

// Start runs the webserver with args plus --listen on a free loopback
// port, and waits for its ready line. When the test ends the server gets
// SIGTERM (SIGKILL if it lingers for 15 s) and its stderr is logged.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	cmd := exec.Command(Binary, append(args, "--listen", "127.0.0.1:0")...)
	s := &Server{Cmd: cmd, done: make(chan struct{}), stderr: &LockedBuffer{}}
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
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-s.done
			t.Errorf("webserver ignored SIGTERM for 15s; killed")
		}
		if e := s.stderr.String(); e != "" {
			t.Logf("webserver stderr:\n%s", e)
		}
	})
	select {
	case s.Addr = <-ready:
		return s
	case <-s.done:
		t.Fatalf("webserver exited before it was ready: %v; stderr: %s", s.err, s.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("webserver printed no ready line within 30s; stderr: %s", s.stderr.String())
	}
	return nil
}

// Pid returns the server's process id.
func (s *Server) Pid() int { return s.Cmd.Process.Pid }

// Stderr returns what the server wrote to stderr so far.
func (s *Server) Stderr() string { return s.stderr.String() }

// Done is closed when the server has exited and been reaped.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop sends SIGTERM and waits up to d for the exit; it returns Wait's
// result, or an error if the server is still running after d.
func (s *Server) Stop(d time.Duration) error {
	s.Cmd.Process.Signal(syscall.SIGTERM)
	return s.Wait(d)
}

// Wait waits up to d for the server to exit and returns Wait's result.
func (s *Server) Wait(d time.Duration) error {
	select {
	case <-s.done:
		return s.err
	case <-time.After(d):
		return fmt.Errorf("webserver still running %v after SIGTERM", d)
	}
}

// Get sends one HTTP/1.0 GET of path on a new connection and returns the
// status and body, read until the server closes.
func Get(addr, path string) (status int, body []byte, err error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.0\r\n\r\n", path); err != nil {
		return 0, nil, err
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(conn); err != nil {
		return 0, nil, err
	}
	head, body, ok := bytes.Cut(buf.Bytes(), []byte("\r\n\r\n"))
	if !ok {
		return 0, nil, fmt.Errorf("webtest: no header end in %q", buf.Bytes())
	}
	if _, err := fmt.Sscanf(string(head), "HTTP/1.%d %d", new(int), &status); err != nil {
		return 0, nil, fmt.Errorf("webtest: status line of %q: %w", head, err)
	}
	return status, body, nil
}

// LockedBuffer collects a process's output while a test reads it.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// OpenFds counts the test process's open descriptors: a test compares the
// count before and after what it checks for leaks.
func OpenFds(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
