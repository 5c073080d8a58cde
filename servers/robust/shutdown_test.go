package robust_test

import (
	"bufio"
	"io"
	"syscall"
	"testing"
	"time"
)

// shutdownCases are what a graceful shutdown does to connections that
// are not in the middle of a request (the graceful-shutdown case covers
// a response in flight).
func shutdownCases() []robustCase {
	return []robustCase{
		{name: "shutdown-idle-keepalive", archs: allArchs(),
			args: []string{"--shutdown-timeout", "60s", "--idle-timeout", "120s", "--write-timeout", "120s"},
			run:  testShutdownIdle},
	}
}

// idleCloseWait is how long a connection idle between requests may stay
// open after SIGTERM: far below the server's shutdown and idle timeouts,
// so that it must be the shutdown that closes it.
const idleCloseWait = 20 * time.Second

// testShutdownIdle keeps a download in flight (its client reads nothing
// yet, so the server cannot finish it) and a keep-alive connection idle
// after one response, then sends SIGTERM. As nginx does, the server must
// close the idle connection at once rather than wait for its shutdown
// deadline, while the download goes on to its end; then it exits 0.
func testShutdownIdle(t *testing.T, e *env) {
	busy := dial(t, e.addr())
	setRcvBuf(t, busy, 64<<10)
	if _, err := busy.Write([]byte("GET /big.bin HTTP/1.0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	idle := dial(t, e.addr())
	idle.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := idle.Write([]byte(get1("/500b.txt"))); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(idle)
	status, length, err := readHead(br)
	if err == nil {
		_, err = io.CopyN(io.Discard, br, length)
	}
	if err != nil || status != 200 {
		t.Fatalf("keep-alive request: got %d, %v; want 200", status, err)
	}
	// The download has started: its first bytes are here.
	busy.SetReadDeadline(time.Now().Add(ioTimeout))
	first := make([]byte, 1)
	if _, err := io.ReadFull(busy, first); err != nil {
		t.Fatalf("download: %v", err)
	}
	if err := e.srv.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	idle.SetReadDeadline(time.Now().Add(idleCloseWait))
	if n, err := br.Read(make([]byte, 1)); !isClosed(err) {
		t.Errorf("idle keep-alive connection after SIGTERM: got %d bytes, %v; want it closed within %v (shutdown timeout 60s)", n, err, idleCloseWait)
	}
	busy.SetReadDeadline(time.Now().Add(ioTimeout))
	rest, err := io.ReadAll(busy)
	if err != nil {
		t.Errorf("download in flight: %v after %d bytes", err, 1+len(rest))
	}
	checkDownload(t, append(first, rest...))
	if err := e.srv.Wait(15 * time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
}
