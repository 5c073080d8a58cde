package forking_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"io"
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
	"flashbench/servers/null"
)

var long = flag.Bool("long", false, "run 10,000 connections in TestManyConnections instead of 2,000")

func TestMain(m *testing.M) { webtest.Main(m) }

// TestConformance runs the conformance suite against `webserver --arch
// forking` over real sockets.
func TestConformance(t *testing.T) {
	root := conformance.Docroot(t)
	s := webtest.Start(t, "--arch", "forking", "--root", root)
	conformance.Run(t, s.Addr, root)
}

// TestManyConnections serves sequential HTTP/1.0 connections, each in its
// own child, and checks that afterwards no child is left (zombie or
// alive) and the parent holds as many descriptors as before.
func TestManyConnections(t *testing.T) {
	n := 2000
	if *long {
		n = 10000
	}
	root := conformance.Docroot(t)
	s := webtest.Start(t, "--arch", "forking", "--root", root)
	want := conformance.File("500b.txt")
	get := func(i int) {
		status, body, err := webtest.Get(s.Addr, "/500b.txt")
		if err != nil || status != 200 || !bytes.Equal(body, want) {
			t.Fatalf("connection %d: got %d, %d bytes, %v, want 200 and 500b.txt", i, status, len(body), err)
		}
	}
	get(0) // the parent's first connection opens what it keeps
	waitNoChildren(t, s.Pid())
	before := fewestFDs(t, s.Pid())
	start := time.Now()
	for i := 1; i <= n; i++ {
		get(i)
	}
	t.Logf("%d connections, a child each, in %v (%v per connection)", n, time.Since(start), time.Since(start)/time.Duration(n))
	waitNoChildren(t, s.Pid())
	if after := fewestFDs(t, s.Pid()); after != before {
		t.Errorf("got %d descriptors in the parent after %d connections, want %d as before", after, n, before)
	}
}

// fewestFDs counts the descriptors of pid several times over 300 ms and
// returns the smallest count: the parent opens a /proc file every 100 ms
// to sample memory, so a descriptor may be open for a moment; a leaked
// one stays.
func fewestFDs(t *testing.T, pid int) int {
	t.Helper()
	fewest := -1
	for range 30 {
		n, err := proctree.FDs(pid)
		if err != nil {
			t.Fatal(err)
		}
		if fewest < 0 || n < fewest {
			fewest = n
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fewest
}

// TestGracefulShutdown checks SIGTERM: a child whose keep-alive
// connection is idle closes it at once, the parent exits 0 once the child
// is done, and the stats file counts the connections.
func TestGracefulShutdown(t *testing.T) {
	root := conformance.Docroot(t)
	statsFile := filepath.Join(t.TempDir(), "stats.json")
	s := webtest.Start(t, "--arch", "forking", "--root", root, "--stats-file", statsFile, "--shutdown-timeout", "10s")
	conn := dial(t, s.Addr)
	br := bufio.NewReader(conn)
	if status := get(t, conn, br); status != 200 {
		t.Fatalf("before SIGTERM: got %d, want 200", status)
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
		t.Fatalf("parent exit: %v, want status 0", err)
	}
	snap := readStats(t, statsFile)
	if snap.Connections != 1 || snap.Tree < snap.Self {
		t.Errorf("got stats %+v, want 1 connection and a tree at least as large as the parent", snap)
	}
}

// TestShutdownKillsLingering checks that a child whose client is in the
// middle of a request (a header that never ends, under a header timeout
// far longer) is killed at --shutdown-timeout, and the parent still exits
// 0 with every child reaped.
func TestShutdownKillsLingering(t *testing.T) {
	root := conformance.Docroot(t)
	s := webtest.Start(t, "--arch", "forking", "--root", root, "--shutdown-timeout", "500ms", "--header-timeout", "60s")
	conn := dial(t, s.Addr)
	if status := get(t, conn, bufio.NewReader(conn)); status != 200 {
		t.Fatalf("got %d, want 200", status)
	}
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	kids := children(t, s.Pid())
	if len(kids) != 1 {
		t.Fatalf("got children %v, want the one serving the open connection", kids)
	}
	if err := s.Stop(10 * time.Second); err != nil {
		t.Fatalf("SIGTERM with a request half sent: %v, want exit status 0", err)
	}
	if _, err := proctree.Stat(kids[0]); err == nil {
		t.Errorf("child %d still exists after the parent exited", kids[0])
	}
}

// TestChildrenDieWithParent kills the parent with SIGKILL: the child
// serving an open connection must follow (PR_SET_PDEATHSIG).
func TestChildrenDieWithParent(t *testing.T) {
	root := conformance.Docroot(t)
	s := webtest.Start(t, "--arch", "forking", "--root", root)
	conn := dial(t, s.Addr)
	if status := get(t, conn, bufio.NewReader(conn)); status != 200 {
		t.Fatalf("got %d, want 200", status)
	}
	kids := children(t, s.Pid())
	if len(kids) != 1 {
		t.Fatalf("got children %v, want one", kids)
	}
	s.Cmd.Process.Kill()
	s.Wait(10 * time.Second)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		p, err := proctree.Stat(kids[0])
		if err != nil || p.State == 'Z' {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d still alive 10s after its parent was killed", kids[0])
		}
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection of the killed child still delivers bytes, want EOF or reset")
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, conformance.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestChildProgram checks --child: by default each connection's process
// runs webserver-child (the stats file names it); webserver-null-child
// answers null's canned response, keep-alive until HTTP/1.0 closes; a
// program that is not there fails the start with one line.
func TestChildProgram(t *testing.T) {
	root := conformance.Docroot(t)
	statsFile := filepath.Join(t.TempDir(), "stats.json")
	s := webtest.Start(t, "--arch", "forking", "--root", root, "--stats-file", statsFile)
	if status, _, err := webtest.Get(s.Addr, "/500b.txt"); err != nil || status != 200 {
		t.Fatalf("default child: got %d, %v, want 200", status, err)
	}
	if err := s.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Forking struct {
			ChildProgram string `json:"child_program"`
		} `json:"forking"`
	}
	b, err := os.ReadFile(statsFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(webtest.Binary), "webserver-child"); doc.Forking.ChildProgram != want {
		t.Errorf("stats forking.child_program: got %q, want %q", doc.Forking.ChildProgram, want)
	}

	s = webtest.Start(t, "--arch", "forking", "--root", root, "--child", "webserver-null-child")
	conn, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	for i, req := range []string{"GET /500b.txt HTTP/1.1\r\nHost: x\r\n\r\n", "GET /nothing HTTP/1.0\r\n\r\n"} {
		if i > 0 {
			time.Sleep(300 * time.Millisecond) // past the listener's accept poll, which the socket inherits
		}
		conn.SetDeadline(time.Now().Add(conformance.Timeout))
		if _, err := conn.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		resp, err := conformance.ReadResponse(br, false)
		if err != nil || resp.Status != 200 || string(resp.Body) != null.Body {
			t.Fatalf("null child, request %d: got %+v, %v, want 200 %q", i, resp, err, null.Body)
		}
	}
	if n, err := br.ReadByte(); err != io.EOF {
		t.Errorf("null child after HTTP/1.0: got %q, %v, want the connection closed", n, err)
	}

	out, err := exec.Command(webtest.Binary, "--arch", "forking", "--root", root, "--listen", "127.0.0.1:0",
		"--child", "no-such-child").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "child program") || !strings.Contains(string(out), "not found") {
		t.Errorf("--child no-such-child: got %v and %q, want a failure naming the missing program", err, out)
	}
}
