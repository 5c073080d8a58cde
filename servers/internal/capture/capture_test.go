package capture_test

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/capture"
)

// start opens a capture on the loopback, skipping where the machine gives
// no packet sockets (no CAP_NET_RAW).
func start(t *testing.T) *capture.Capture {
	t.Helper()
	c, err := capture.Start("lo")
	if errors.Is(err, os.ErrPermission) {
		t.Skipf("no packet socket: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// serveOnce answers one connection with resp, written with flags, then
// closes it; it returns the client's and the server's ports once the
// client read to EOF.
func serveOnce(t *testing.T, resp string, flags int) (int, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Read(make([]byte, 512))
		raw, _ := c.(*net.TCPConn).SyscallConn()
		raw.Control(func(fd uintptr) { unix.SendmsgN(int(fd), []byte(resp), nil, nil, flags) })
		c.Close()
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	if b, err := io.ReadAll(c); err != nil || string(b) != resp {
		t.Fatalf("read %q, %v; want %q", b, err, resp)
	}
	return c.LocalAddr().(*net.TCPAddr).Port, ln.Addr().(*net.TCPAddr).Port
}

// TestFINRides checks what the capture sees of one connection: the
// handshake, the request, and the response with the FIN on its segment
// when it was written with MSG_MORE before the close, or after it, bare,
// when it was not.
func TestFINRides(t *testing.T) {
	const resp = "HTTP/1.0 200 OK\r\n\r\nhello"
	for _, tt := range []struct {
		name    string
		flags   int
		wantFIN bool
	}{{"MSG_MORE", unix.MSG_MORE, true}, {"pushed", 0, false}} {
		t.Run(tt.name, func(t *testing.T) {
			c := start(t)
			port, srv := serveOnce(t, resp, tt.flags)
			segs, err := c.Read(port, srv, 200*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if len(segs) < 6 || segs[0].Flags != capture.SYN || segs[0].SrcPort != port {
				t.Fatalf("segments %v: want the client's SYN first, and at least 6", segs)
			}
			var data *capture.Segment
			for i := range segs {
				if s := &segs[i]; s.DstPort == port && s.Len > 0 {
					data = s
				}
			}
			if data == nil || data.Len != len(resp) {
				t.Fatalf("segments %v: want one response segment of %d bytes", segs, len(resp))
			}
			if got := data.Flags&capture.FIN != 0; got != tt.wantFIN {
				t.Errorf("segments %v: response segment %v carries the FIN: %v, want %v", segs, data, got, tt.wantFIN)
			}
		})
	}
}
