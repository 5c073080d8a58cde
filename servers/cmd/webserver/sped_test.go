package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"flashbench/results/schematest"
	"flashbench/servers/httpcore/conformance"
)

// loopArchs are the single-threaded event loops these tests run against:
// epoll (sped) and io_uring (uring).
var loopArchs = []string{"sped", "uring"}

// TestLoopConformance runs the conformance suite against the real binary,
// on each single-threaded event loop.
func TestLoopConformance(t *testing.T) {
	for _, arch := range loopArchs {
		t.Run(arch, func(t *testing.T) { testLoopConformance(t, arch) })
	}
}

func testLoopConformance(t *testing.T, arch string) {
	root := conformance.Docroot(t)
	s := startServer(t, "--arch", arch, "--root", root)
	conformance.Run(t, s.addr, root)
}

// bigRoot makes a root with a small file and a big one.
func bigRoot(t *testing.T, bigSize int) (root string, big []byte) {
	t.Helper()
	root = t.TempDir()
	big = conformance.Pattern(bigSize, 7)
	if err := os.WriteFile(filepath.Join(root, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "small.txt"), conformance.Pattern(500, 3), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, big
}

// dialSmallRcvbuf connects with a small receive buffer, so that a big
// response stays mostly unsent while the client does not read.
func dialSmallRcvbuf(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func get(t *testing.T, c net.Conn, r *bufio.Reader, path string) *response {
	t.Helper()
	c.SetDeadline(time.Now().Add(conformance.Timeout))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path); err != nil {
		t.Fatalf("write request for %s: %v", path, err)
	}
	resp, err := readResponse(r, false)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp
}

// TestShutdownInFlight sends SIGTERM while a big file goes to a slow
// reader: the response completes, an idle keep-alive connection is
// closed, new connections are refused, and the exit status is 0.
func TestShutdownInFlight(t *testing.T) {
	for _, arch := range loopArchs {
		t.Run(arch, func(t *testing.T) { testShutdownInFlight(t, arch) })
	}
}

func testShutdownInFlight(t *testing.T, arch string) {
	root, big := bigRoot(t, 8<<20)
	s := startServer(t, "--arch", arch, "--root", root, "--shutdown-timeout", "20s")
	idle := dial(t, s.addr)
	idleR := bufio.NewReader(idle)
	get(t, idle, idleR, "/small.txt")

	slow := dialSmallRcvbuf(t, s.addr)
	fmt.Fprintf(slow, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	slowR := bufio.NewReaderSize(slow, 1024)
	slow.SetReadDeadline(time.Now().Add(conformance.Timeout))
	if _, err := slowR.Peek(1); err != nil { // the response has started
		t.Fatalf("read first byte of big response: %v", err)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	expectEOF(t, idle, idleR, conformance.Timeout)
	// The listener closes at once, but the loop must not exit before the
	// slow response is done: wait until a new connection is refused.
	deadline := time.Now().Add(conformance.Timeout)
	for {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("new connections still accepted %v after SIGTERM", conformance.Timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var body bytes.Buffer
	buf := make([]byte, 32<<10)
	slow.SetReadDeadline(time.Now().Add(4 * conformance.Timeout))
	resp, err := readResponse(slowR, true)
	if err != nil {
		t.Fatal(err)
	}
	for body.Len() < len(big) {
		n, err := slowR.Read(buf)
		body.Write(buf[:n])
		if err != nil {
			break
		}
		time.Sleep(time.Millisecond) // a slow reader
	}
	if resp.status != 200 || !bytes.Equal(body.Bytes(), big) {
		t.Errorf("in-flight response: got status %d and %d body bytes (equal %v), want 200 and the %d bytes of big.bin",
			resp.status, body.Len(), bytes.Equal(body.Bytes(), big), len(big))
	}
	select {
	case <-s.Done():
		if err := s.Wait(time.Second); err != nil { // returns at once: it has exited
			t.Errorf("exit after SIGTERM: got %v, want status 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("webserver did not exit after its last response")
	}
}

// TestStatsFile sends requests, then SIGUSR1, and checks the counters
// and the file against its schema (results.StatsSchema).
func TestStatsFile(t *testing.T) {
	for _, arch := range loopArchs {
		t.Run(arch, func(t *testing.T) { testStatsFile(t, arch) })
	}
}

func testStatsFile(t *testing.T, arch string) {
	root, _ := bigRoot(t, 1<<20)
	statsFile := filepath.Join(t.TempDir(), "stats.json")
	s := startServer(t, "--arch", arch, "--root", root, "--stats-file", statsFile)
	const ok, missing = 7, 3
	c := dial(t, s.addr)
	r := bufio.NewReader(c)
	for range ok {
		get(t, c, r, "/small.txt")
	}
	for range missing {
		get(t, c, r, "/nope")
	}
	s.cmd.Process.Signal(syscall.SIGUSR1)
	var snap struct {
		Requests  uint64            `json:"requests"`
		BytesSent uint64            `json:"bytes_sent"`
		Responses map[string]uint64 `json:"responses"`
		Caches    map[string]uint64 `json:"caches"`
		Extra     map[string]any    `json:"extra"`
	}
	deadline := time.Now().Add(conformance.Timeout)
	for {
		data, err := os.ReadFile(statsFile)
		if err == nil {
			if err := json.Unmarshal(data, &snap); err != nil {
				t.Fatalf("stats file is not JSON: %v\n%s", err, data)
			}
			if err := schematest.Validate(schematest.Stats, data); err != nil {
				t.Errorf("stats file: %v\n%s", err, data)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no stats file %v after SIGUSR1: %v", conformance.Timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if snap.Requests != ok+missing || snap.Responses["2xx"] != ok || snap.Responses["4xx"] != missing {
		t.Errorf("stats: got requests %d, 2xx %d, 4xx %d; want %d, %d, %d",
			snap.Requests, snap.Responses["2xx"], snap.Responses["4xx"], ok+missing, ok, missing)
	}
	if snap.BytesSent < ok*500 || snap.Caches["path_hits"] < ok-1 || snap.Extra["arch"] != arch {
		t.Errorf("stats: got bytes_sent %d, path_hits %d, arch %v; want >= %d, >= %d, %s",
			snap.BytesSent, snap.Caches["path_hits"], snap.Extra["arch"], ok*500, ok-1, arch)
	}
	if err := s.stop(t); err != nil {
		t.Errorf("exit: %v", err)
	}
}

// readAll reads a response body fully, for the slow readers.
func readAll(r io.Reader, n int) ([]byte, error) {
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return b, err
}
