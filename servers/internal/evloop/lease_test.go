package evloop_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore"
	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/evloop"
	"flashbench/servers/internal/httpconn"
	"flashbench/servers/internal/listen"
)

// leaseGrace is the write timeout of the loops below, which bounds how
// long a lease drain waits for a client that does not read.
const leaseGrace = 20 * time.Second

// startLeaseLoop serves root with sendfile under read leases, as
// flashlite does, with pathEntries pathname cache entries (0: the
// default), and returns the address.
func startLeaseLoop(t *testing.T, root string, pathEntries int) string {
	t.Helper()
	core, err := httpcore.New(httpcore.Config{Root: root, SendFile: true, Lease: true, PathCacheEntries: pathEntries})
	if err != nil {
		t.Fatal(err)
	}
	lfd, addr, err := listen.TCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := evloop.New(lfd, core, nil, httpconn.ServeOptions{WriteTimeout: leaseGrace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { core.Close() })
	runLoop(t, l, lfd)
	return addr
}

// needLeases skips a test on a kernel with leases turned off: flashlite
// then sends files the way amped does.
func needLeases(t *testing.T) {
	if b, err := os.ReadFile("/proc/sys/fs/leases-enable"); err == nil && strings.TrimSpace(string(b)) == "0" {
		t.Skip("file leases are disabled (/proc/sys/fs/leases-enable is 0)")
	}
}

// TestLeaseTruncate truncates a file, from another goroutine, while a
// client still has part of it to read: sent whole but unread in the
// client's receive queue, or in the middle of a sendfile. The truncation
// point lies in the bytes the client has not read yet, so a server that
// let the truncation proceed before the client read them would deliver
// zeros (truncate zeroes the page-cache folio past the new end, and those
// very pages sit in the socket queues). The client must get the original
// bytes (all of them, or a prefix and then the connection closed), the
// truncate must wait until the client has read them and then complete,
// and the next request must get the truncated file.
func TestLeaseTruncate(t *testing.T) {
	needLeases(t)
	tests := []struct {
		name    string
		size    int
		rcvBuf  int
		readyAt int  // body bytes read before the truncate (0: wait until all arrived)
		whole   bool // the whole response must arrive
	}{
		{"sent whole, unread", 64 << 10, 1 << 20, 0, true},
		{"in the middle of sendfile", 8 << 20, 64 << 10, 256 << 10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			path := filepath.Join(root, "f.bin")
			data := conformance.Pattern(tt.size, 3)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			addr := startLeaseLoop(t, root, 0)
			c, br := leaseClient(t, addr, tt.rcvBuf)
			body := make([]byte, 0, tt.size)
			if tt.readyAt == 0 {
				waitInq(t, c, tt.size)
			}
			body = readSome(t, br, body, tt.readyAt)
			cut := int64(len(body) + 4096 + 100) // unaligned, in bytes not read yet
			truncated := make(chan error, 1)
			go func() { truncated <- os.Truncate(path, cut) }()
			if waitLeaseBreaking(t, path, truncated) {
				time.Sleep(200 * time.Millisecond) // room for a release that comes too early
			}
			select {
			case err := <-truncated:
				t.Errorf("truncate returned (%v) while the client had %d bytes of the file left to read", err, tt.size-len(body))
				truncated <- err
			default:
			}
			var rest []byte
			var err error
			if tt.whole { // the connection stays open: read the body only
				rest = make([]byte, tt.size-len(body))
				_, err = io.ReadFull(br, rest)
			} else {
				rest, err = io.ReadAll(br)
			}
			body = append(body, rest...)
			closed := err == nil || errors.Is(err, syscall.ECONNRESET)
			switch {
			case tt.whole && len(body) < tt.size:
				t.Errorf("got %d body bytes (%v), want all %d", len(body), err, tt.size)
			case !tt.whole && (len(body) >= tt.size || !closed):
				t.Errorf("got %d body bytes, then %v; want fewer than %d, then the connection closed", len(body), err, tt.size)
			}
			if at := firstDiff(body, data); at >= 0 {
				t.Errorf("body departs from the file at byte %d of %d received: %q", at, len(body), body[at:min(at+16, len(body))])
			}
			select {
			case err := <-truncated:
				if err != nil {
					t.Fatalf("truncate: %v", err)
				}
			case <-time.After(leaseGrace / 2):
				t.Fatalf("truncate still waits %v after the client read everything", leaseGrace/2)
			}
			if got := getBody(t, addr, "/f.bin"); !bytes.Equal(got, data[:cut]) {
				t.Errorf("next request: got %d bytes, want the %d of the truncated file", len(got), cut)
			}
		})
	}
}

// TestLeaseRetired evicts a leased file from the pathname cache: the loop
// closes it, giving its lease up, once its data is drained, so that
// evicted files do not pile up open.
func TestLeaseRetired(t *testing.T) {
	needLeases(t)
	root := t.TempDir()
	for _, name := range []string{"f.bin", "g.bin"} {
		if err := os.WriteFile(filepath.Join(root, name), conformance.Pattern(64<<10, 5), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr := startLeaseLoop(t, root, 1)
	getBody(t, addr, "/f.bin")
	getBody(t, addr, "/g.bin") // evicts f.bin
	f := filepath.Join(root, "f.bin")
	for deadline := time.Now().Add(leaseGrace); leaseHeld(t, f); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the evicted f.bin still holds its lease %v later", leaseGrace)
		}
	}
	if !leaseHeld(t, filepath.Join(root, "g.bin")) {
		t.Error("the cached g.bin holds no lease")
	}
}

// leaseClient connects with a receive buffer of rcvBuf bytes (set before
// the handshake, so that the window matches), asks for /f.bin, and
// returns the connection and a reader positioned at the body.
func leaseClient(t *testing.T, addr string, rcvBuf int) (*net.TCPConn, *bufio.Reader) {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcvBuf) })
		return serr
	}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := nc.(*net.TCPConn)
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write([]byte("GET /f.bin HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(leaseGrace))
	br := bufio.NewReaderSize(c, 4<<10)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read header: %v", err)
		}
		if line == "\r\n" {
			return c, br
		}
		if strings.HasPrefix(line, "HTTP/") && !strings.HasPrefix(line, "HTTP/1.1 200 ") {
			t.Fatalf("got %q, want 200", line)
		}
	}
}

// waitInq waits until at least n bytes wait unread in c's receive queue
// or its reader's buffer: the server has sent the whole body.
func waitInq(t *testing.T, c *net.TCPConn, n int) {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(leaseGrace); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		var inq int
		rc.Control(func(fd uintptr) { inq, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ) })
		if inq+4<<10 >= n { // the reader may hold up to its buffer
			return
		}
	}
	t.Fatalf("the body of %d bytes did not arrive", n)
}

// readSome reads slowly until body holds n bytes.
func readSome(t *testing.T, br *bufio.Reader, body []byte, n int) []byte {
	t.Helper()
	buf := make([]byte, 4<<10)
	for len(body) < n {
		k, err := br.Read(buf)
		if err != nil {
			t.Fatalf("read the first %d bytes: %v after %d", n, err, len(body))
		}
		body = append(body, buf[:k]...)
		time.Sleep(time.Millisecond)
	}
	return body
}

// leaseLines returns the /proc/locks lines of the leases on path.
func leaseLines(t *testing.T, path string) []string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	ino := fmt.Sprintf(":%d ", fi.Sys().(*syscall.Stat_t).Ino)
	locks, err := os.ReadFile("/proc/locks")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, line := range strings.Split(string(locks), "\n") {
		if strings.Contains(line, " LEASE ") && strings.Contains(line, ino) {
			lines = append(lines, line)
		}
	}
	return lines
}

// leaseHeld reports whether some process holds a lease on path.
func leaseHeld(t *testing.T, path string) bool { return len(leaseLines(t, path)) > 0 }

// waitLeaseBreaking waits until /proc/locks shows the lease on path being
// broken (the truncate waits for the server: it reports true), or until
// the truncate has returned (false: the server held no lease, or gave it
// up at once).
func waitLeaseBreaking(t *testing.T, path string, truncated chan error) bool {
	t.Helper()
	for {
		for _, line := range leaseLines(t, path) {
			if strings.Contains(line, " BREAKING ") {
				return true
			}
		}
		select {
		case err := <-truncated:
			truncated <- err
			return false
		case <-time.After(time.Millisecond):
		}
	}
}

// getBody fetches path on a new connection.
func getBody(t *testing.T, addr, path string) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(leaseGrace))
	c.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
	resp, err := http11(bufio.NewReader(c))
	if err != nil || resp.status != 200 {
		t.Fatalf("next request: %v, status %d", err, resp.status)
	}
	return resp.body
}

// firstDiff returns the first index where got departs from want, or -1
// when got is a prefix of want.
func firstDiff(got, want []byte) int {
	for i := range got {
		if i >= len(want) || got[i] != want[i] {
			return i
		}
	}
	return -1
}
