package threaded_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/proctree"
	"flashbench/servers/internal/webtest"
)

// TestPoolLargerThanDescriptorLimit runs more threads than the server may
// hold descriptors (prlimit --nofile): a thread waiting in accept4 holds a
// descriptor slot, so the idle threads must not all wait there at once,
// or the thread serving a request finds no slot to open the file with
// and answers 500. Each file is fetched once, so that each needs an open.
func TestPoolLargerThanDescriptorLimit(t *testing.T) {
	const limit, threads = 32, 64
	root := conformance.Docroot(t)
	names := make([]string, 8)
	for i := range names {
		names[i] = fmt.Sprintf("limit-%d.txt", i)
		if err := os.WriteFile(filepath.Join(root, names[i]), []byte(names[i]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pid, addr := startLimited(t, limit, "--arch", "threaded", "--root", root, "--threads", fmt.Sprint(threads))
	waitThreads(t, pid, threads)
	for _, name := range names {
		status, body, err := get10(addr, "/"+name)
		if err != nil {
			t.Fatalf("GET /%s with %d threads under --nofile=%d: %v", name, threads, limit, err)
		}
		if status != 200 || string(body) != name {
			t.Errorf("GET /%s with %d threads under --nofile=%d: got %d %q, want 200 %q",
				name, threads, limit, status, body, name)
		}
	}
}

// startLimited runs the webserver with args under prlimit --nofile=n:n on
// a free loopback port and returns its pid and address once it is ready.
// The server gets SIGTERM (SIGKILL after 15 s) when the test ends.
func startLimited(t *testing.T, n int, args ...string) (int, string) {
	t.Helper()
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit (util-linux) not installed")
	}
	argv := append([]string{fmt.Sprintf("--nofile=%d:%d", n, n), "--", webtest.Binary}, args...)
	cmd := exec.Command("prlimit", append(argv, "--listen", "127.0.0.1:0")...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prlimit webserver: %v", err)
	}
	ready, done := make(chan string, 1), make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, addr, ok := strings.Cut(sc.Text(), " listening on "); ok {
				ready <- addr
			}
		}
		cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	select {
	case addr := <-ready:
		return cmd.Process.Pid, addr
	case <-done:
		t.Fatalf("webserver under prlimit exited before it was ready")
	case <-time.After(30 * time.Second):
		t.Fatalf("webserver under prlimit printed no ready line within 30s")
	}
	return 0, ""
}

// waitThreads waits until process pid has at least n kernel threads: the
// pool has started.
func waitThreads(t *testing.T, pid, n int) {
	t.Helper()
	var got int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		st, err := proctree.ReadStatus(pid)
		if err != nil {
			t.Fatal(err)
		}
		if got = st.Threads; got >= n {
			return
		}
	}
	t.Fatalf("got %d threads in /proc/%d/status, want at least %d", got, pid, n)
}

// get10 GETs target with HTTP/1.0 on a new connection.
func get10(addr, target string) (int, []byte, error) {
	conn, err := net.DialTimeout("tcp", addr, conformance.Timeout)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(conformance.Timeout))
	if _, err := conn.Write([]byte("GET " + target + " HTTP/1.0\r\n\r\n")); err != nil {
		return 0, nil, err
	}
	resp, err := conformance.ReadResponse(bufio.NewReader(conn), false)
	if err != nil {
		return 0, nil, err
	}
	return resp.Status, resp.Body, nil
}
