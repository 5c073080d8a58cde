package robust_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/proctree"
)

// ioTimeout bounds every client read and write, generous for a loaded
// machine: a server that neither answers nor closes fails instead of
// hanging the suite.
const ioTimeout = 10 * time.Second

// get1 is an HTTP/1.1 GET of target.
func get1(target string) string {
	return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n"
}

// dial connects to addr with the suite's timeout.
func dial(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// roundTrip writes req on a new connection and reads one response.
func roundTrip(addr, req string, head bool) (*conformance.Response, error) {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(ioTimeout))
	// The server may answer and close before reading an oversized
	// request whole: the write error matters only if no answer came.
	_, werr := c.Write([]byte(req))
	resp, err := conformance.ReadResponse(bufio.NewReader(c), head)
	if err != nil && werr != nil {
		return nil, fmt.Errorf("%w (write: %v)", err, werr)
	}
	return resp, err
}

// fetch GETs target and checks a 200 whose body is want.
func fetch(addr, target string, want []byte) error {
	resp, err := roundTrip(addr, get1(target), false)
	switch {
	case err != nil:
		return fmt.Errorf("GET %s: %w", target, err)
	case resp.Status == 502:
		return fmt.Errorf("GET %s: %w", target, errBadGateway)
	case resp.Status != 200:
		return fmt.Errorf("GET %s: got status %d, want 200", target, resp.Status)
	case !bytes.Equal(resp.Body, want):
		return fmt.Errorf("GET %s: got a %d-byte body differing at byte %d, want the %d-byte file",
			target, len(resp.Body), firstDiff(resp.Body, want), len(want))
	}
	return nil
}

// errBadGateway is fetch's error for a 502 answer.
var errBadGateway = errors.New("got status 502, want 200")

// mustServe fails unless the server answers a GET of 500b.txt correctly.
func mustServe(t *testing.T, addr, when string) {
	t.Helper()
	if err := fetch(addr, "/500b.txt", conformance.File("500b.txt")); err != nil {
		t.Fatalf("%s: %v", when, err)
	}
}

// readHead reads a response's status line and header and returns the
// status and Content-Length (-1 when absent).
func readHead(br *bufio.Reader) (status int, length int64, err error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return 0, 0, fmt.Errorf("read status line: %w", err)
	}
	if _, err := fmt.Sscanf(line, "HTTP/1.%d %d", new(int), &status); err != nil {
		return 0, 0, fmt.Errorf("status line %q: %w", line, err)
	}
	length = -1
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return 0, 0, fmt.Errorf("read header: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return status, length, nil
		}
		name, value, _ := strings.Cut(line, ":")
		if strings.EqualFold(name, "Content-Length") {
			if length, err = strconv.ParseInt(strings.TrimSpace(value), 10, 64); err != nil {
				return 0, 0, fmt.Errorf("Content-Length %q: %w", value, err)
			}
		}
	}
}

// readToEnd reads until EOF, a reset or the deadline and returns the bytes
// and how it ended: nil for EOF or a reset (the server closed), the error
// otherwise.
func readToEnd(c net.Conn, r io.Reader, d time.Duration) ([]byte, error) {
	c.SetReadDeadline(time.Now().Add(d))
	var buf bytes.Buffer
	_, err := buf.ReadFrom(r)
	if err == nil || errors.Is(err, syscall.ECONNRESET) {
		return buf.Bytes(), nil
	}
	return buf.Bytes(), err
}

// isClosed reports whether err means the server closed the connection.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// setRcvBuf shrinks the connection's receive buffer, so that a client
// that does not read stalls the server soon. Set before the request.
func setRcvBuf(t *testing.T, c *net.TCPConn, n int) {
	t.Helper()
	if err := c.SetReadBuffer(n); err != nil {
		t.Fatalf("set SO_RCVBUF: %v", err)
	}
}

// firstDiff returns the index of the first byte where a and b differ.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// isPrefix reports whether got is a prefix of want, and where it departs.
func isPrefix(got, want []byte) (bool, int) {
	if len(got) > len(want) {
		return false, len(want)
	}
	i := firstDiff(got, want)
	return i == len(got), i
}

// cpuTicks returns the user plus system CPU time of the processes pids,
// in clock ticks (/proc/PID/stat fields 14 and 15).
func cpuTicks(t *testing.T, pids []int) int64 {
	t.Helper()
	var sum int64
	for _, p := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 13 {
			t.Fatalf("malformed /proc/%d/stat %q", p, b)
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		sum += u + s
	}
	return sum
}

// waitFor polls cond every 20 ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	p, err := proctree.Stat(pid)
	return err == nil && p.State != 'Z'
}

// serverHolds reports whether a process still holds the server's end of
// connection c, from /proc/net/tcp: a server that closed leaves no entry,
// or an orphan (inode 0) that the kernel finishes on its own. Reading the
// client end instead would wait on the orphan's zero-window probes.
func serverHolds(t *testing.T, c net.Conn) bool {
	t.Helper()
	f := serverEnd(t, c)
	return f != nil && f[9] != "0"
}

// serverAccepted reports whether the server has accepted connection c,
// from /proc/net/tcp: an end still in the listen backlog is ESTABLISHED
// (01) and held by no process (inode 0); once accepted it is held, or,
// closed since, in another state or gone.
func serverAccepted(t *testing.T, c net.Conn) bool {
	t.Helper()
	f := serverEnd(t, c)
	return f == nil || f[9] != "0" || f[3] != "01"
}

// serverEnd returns the fields of the /proc/net/tcp line of the server's
// end of c, nil if there is none.
func serverEnd(t *testing.T, c net.Conn) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatal(err)
	}
	local, remote := hexAddr(c.RemoteAddr()), hexAddr(c.LocalAddr())
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) > 9 && f[1] == local && f[2] == remote {
			return f
		}
	}
	return nil
}

// hexAddr formats a loopback TCP address the way /proc/net/tcp does.
func hexAddr(a net.Addr) string {
	ta := a.(*net.TCPAddr)
	ip := ta.IP.To4()
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], ta.Port)
}
