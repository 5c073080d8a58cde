package connloop_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"flashbench/servers/httpcore/conformance"
)

// bigSize is the large file of the backpressure tests: far more than the
// socket buffers hold, so the sender blocks and resumes many times.
const bigSize = 8 << 20

// bigRoot returns a fixture root with big.bin added.
func bigRoot(t *testing.T) (root string, big []byte) {
	t.Helper()
	root = conformance.Docroot(t)
	big = conformance.Pattern(bigSize, 7)
	if err := os.WriteFile(filepath.Join(root, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	return root, big
}

// TestConformance runs the whole conformance suite against the blocking
// loop, with mapped-file bodies (writev) and with sendfile bodies, and
// waiting for requests as a prefork worker does (HoldP).
func TestConformance(t *testing.T) {
	for _, env := range [][]string{{envSendFile + "=0"}, {envSendFile + "=1"}, {envSendFile + "=0", envHoldP + "=1"}} {
		t.Run(strings.Join(env, ","), func(t *testing.T) {
			root := conformance.Docroot(t)
			addr := startServer(t, root, env...)
			conformance.Run(t, addr, root)
		})
	}
}

// TestCacheCombinations runs a subset of the suite with each of the eight
// on/off combinations of the three caches: every one must serve the same
// bytes.
func TestCacheCombinations(t *testing.T) {
	var subset []conformance.Case
	for _, c := range conformance.Cases {
		if c.Status == 200 || c.Status == 304 || c.Status == 403 || c.Status == 404 {
			subset = append(subset, c)
		}
	}
	caches := []string{"path", "header", "mmap"}
	for mask := range 8 {
		var off []string
		for i, name := range caches {
			if mask&(1<<i) != 0 {
				off = append(off, name)
			}
		}
		name := "off=" + strings.Join(off, "+")
		if len(off) == 0 {
			name = "all-on"
		}
		t.Run(name, func(t *testing.T) {
			root := conformance.Docroot(t)
			addr := startServer(t, root, envNoCaches+"="+strings.Join(off, ","), envSendFile+"="+string("01"[mask&1]))
			// Twice: the second round is served from whatever caches are on.
			conformance.RunCases(t, addr, root, subset)
			conformance.RunCases(t, addr, root, subset)
		})
	}
}

// TestSlowReader sends an 8 MiB body to a client that reads slowly and in
// small pieces, then a pipelined small file on the same connection.
func TestSlowReader(t *testing.T) {
	for _, sendFile := range []string{"0", "1"} {
		t.Run("sendfile="+sendFile, func(t *testing.T) {
			root, big := bigRoot(t)
			addr := startServer(t, root, envSendFile+"="+sendFile)
			conn := dial(t, addr)
			req := "GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\nGET /500b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
			if _, err := conn.Write([]byte(req)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond) // let the server fill the socket buffers and block
			br := bufio.NewReaderSize(&slowReader{r: conn, conn: conn}, 4096)
			resp, err := conformance.ReadResponse(br, false)
			if err != nil {
				t.Fatalf("big response: %v", err)
			}
			if resp.Status != 200 || !bytes.Equal(resp.Body, big) {
				t.Fatalf("got status %d and %d bytes (first difference at %d), want 200 and the %d bytes of big.bin",
					resp.Status, len(resp.Body), firstDiff(resp.Body, big), len(big))
			}
			resp, err = conformance.ReadResponse(br, false)
			if err != nil {
				t.Fatalf("pipelined response after the big one: %v", err)
			}
			if want := conformance.File("500b.txt"); resp.Status != 200 || !bytes.Equal(resp.Body, want) {
				t.Errorf("pipelined response: got %d %.40q, want 200 %.40q", resp.Status, resp.Body, want)
			}
		})
	}
}

// slowReader reads at most 16 KiB at a time and pauses every 64 reads, and
// keeps the connection deadline fresh while it makes progress.
type slowReader struct {
	r     io.Reader
	conn  net.Conn
	reads int
}

func (s *slowReader) Read(p []byte) (int, error) {
	if s.reads++; s.reads%64 == 0 {
		time.Sleep(2 * time.Millisecond)
	}
	s.conn.SetReadDeadline(time.Now().Add(conformance.Timeout))
	return s.r.Read(p[:min(len(p), 16<<10)])
}

// TestTimeouts checks the header timeout (408 then close, only when part
// of a request arrived) and the idle timeout (close without a word).
//
// With HoldP (one worker, GOMAXPROCS=1) the loop keeps its deadlines
// itself; its SIGTERM at the end must still be handled within the
// cleanup's 10 s, though the worker holds the only P while it waits.
func TestTimeouts(t *testing.T) {
	for _, holdP := range []bool{false, true} {
		t.Run("holdP="+strconv.FormatBool(holdP), func(t *testing.T) { testTimeouts(t, holdP) })
	}
}

func testTimeouts(t *testing.T, holdP bool) {
	root := conformance.Docroot(t)
	env := []string{envHeader + "=300ms", envIdle + "=300ms"}
	if holdP {
		env = append(env, envHoldP+"=1")
	}
	addr := startServer(t, root, env...)
	tests := []struct {
		name    string
		send    string
		prefix  string // expected start of everything the server sends
		request bool   // a full request is answered first
	}{
		{name: "half-request-408", send: "GET /page.html HTTP/1.1\r\nHost: loc", prefix: "HTTP/1.1 408 "},
		{name: "half-request-line-408", send: "GET /pa", prefix: "HTTP/1.1 408 "},
		{name: "silent-new-connection", send: "", prefix: ""},
		{name: "idle-keep-alive", send: "GET /notes.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", prefix: "HTTP/1.1 200 ", request: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := dial(t, addr)
			if _, err := conn.Write([]byte(tt.send)); err != nil {
				t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(conformance.Timeout))
			got, err := io.ReadAll(conn) // ends when the server closes
			if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Logf("read: %v", err)
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("server kept the connection open for %v after %q, want close", conformance.Timeout, tt.send)
			}
			if !strings.HasPrefix(string(got), tt.prefix) || (tt.prefix == "") != (len(got) == 0) {
				t.Fatalf("after %q: got %q, want a response starting %q", tt.send, got, tt.prefix)
			}
			if tt.request {
				resp, err := conformance.ReadResponse(bufio.NewReader(bytes.NewReader(got)), false)
				if err != nil || !bytes.Equal(resp.Body, conformance.File("notes.txt")) {
					t.Fatalf("got %q (%v), want exactly one 200 response with notes.txt", got, err)
				}
			}
		})
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

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
