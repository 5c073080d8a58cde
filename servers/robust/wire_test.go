package robust_test

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"flashbench/servers/internal/capture"
	"flashbench/servers/internal/webtest"
)

// maxSegments is what nginx takes for one HTTP/1.0 request of a small
// file on the loopback: handshake (3), request, its ACK, response and FIN
// in one segment, the client's ACK, FIN and the server's last ACK.
const maxSegments = 9

// TestFINOnLastSegment checks, on the wire, that a response that ends
// its connection carries the FIN on its last data segment (MSG_MORE or
// TCP_CORK, then close) instead of a bare FIN of its own, on every
// flashbench architecture, for a small body (500 B, one segment) and a
// large one (50 KB: several segments, sent with sendfile by flashlite);
// and that a small one takes no more segments than nginx's.
func TestFINOnLastSegment(t *testing.T) {
	c, err := capture.Start("lo")
	if errors.Is(err, os.ErrPermission) {
		t.Skipf("no packet socket (needs CAP_NET_RAW): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	for _, arch := range append(slices.Clone(flashArchs), "null") {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, arch)
			files := map[int]string{500: "small.bin", 50 << 10: "medium.bin"}
			for size, name := range files {
				if err := os.WriteFile(filepath.Join(e.root, name), make([]byte, size), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			sizes := []int{500, 50 << 10}
			var srv *webtest.Server
			if arch == "null" { // its one canned response, whatever the path
				srv, sizes = webtest.Start(t, "--arch", "null"), sizes[:1]
			} else {
				srv = startServer(t, arch, e.root)
			}
			for _, size := range sizes {
				name := files[size]
				segs := oneConnection(t, srv.Addr, "/"+name)
				var last *capture.Segment
				port := segs[0].SrcPort
				for i := range segs {
					s := &segs[i]
					if s.DstPort == port && s.Flags&capture.FIN != 0 && s.Len == 0 {
						t.Errorf("%s, %d B: the server sent a bare FIN %v; segments: %v", arch, size, s, segs)
					}
					if s.DstPort == port && s.Len > 0 {
						last = s
					}
				}
				if last == nil || last.Flags&capture.FIN == 0 {
					t.Errorf("%s, %d B: the last data segment %v does not carry the FIN; segments: %v", arch, size, last, segs)
				}
				if size == 500 && len(segs) > maxSegments {
					t.Errorf("%s, %d B: %d segments, want at most %d (nginx's): %v", arch, size, len(segs), maxSegments, segs)
				}
			}
		})
	}
}

// oneConnection captures one HTTP/1.0 request for path on its own
// connection, read to the end and closed, and returns its segments, the
// client's SYN first.
func oneConnection(t *testing.T, addr, path string) []capture.Segment {
	t.Helper()
	c, err := capture.Start("lo")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	port, srv := conn.LocalAddr().(*net.TCPAddr).Port, conn.RemoteAddr().(*net.TCPAddr).Port
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET "+path+" HTTP/1.0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := io.ReadAll(conn)
	conn.Close()
	if err != nil || !strings.HasPrefix(string(resp), "HTTP/1.") {
		t.Fatalf("GET %s: read %.40q, %v", path, resp, err)
	}
	segs, err := c.Read(port, srv, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) == 0 || segs[0].Flags != capture.SYN {
		t.Fatalf("GET %s: segments %v: want the client's SYN first", path, segs)
	}
	return segs
}
