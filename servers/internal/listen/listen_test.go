package listen_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/listen"
)

// TestTCP opens a listener on a free port and connects to it.
func TestTCP(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		t.Run(addr, func(t *testing.T) {
			fd, bound, err := listen.TCP(addr)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			if !strings.HasPrefix(bound, "127.0.0.1:") || strings.HasSuffix(bound, ":0") {
				t.Fatalf("bound address: got %q, want 127.0.0.1 and a real port", bound)
			}
			c, err := net.Dial("tcp", bound)
			if err != nil {
				t.Fatalf("dial %s: %v", bound, err)
			}
			c.Close()
			if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); fl&unix.O_NONBLOCK == 0 {
				t.Errorf("listener is blocking, want O_NONBLOCK")
			}
		})
	}
}

// TestTCPErrors checks the refused addresses.
func TestTCPErrors(t *testing.T) {
	fd, bound, err := listen.TCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	tests := []struct{ addr, want string }{
		{"127.0.0.1", "missing port"},
		{"example.org:80", "must be an IP address"},
		{"127.0.0.1:99999", "bad port"},
		{bound, "address already in use"},
	}
	for _, tt := range tests {
		if _, _, err := listen.TCP(tt.addr); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("TCP(%q): got error %v, want one containing %q", tt.addr, err, tt.want)
		}
	}
}

// TestDeferAccept checks TCP_DEFER_ACCEPT on a real listener: a connection
// that has sent nothing is not handed out, one whose first bytes arrived
// is, with them readable; without it a bare connection is handed out at
// once.
func TestDeferAccept(t *testing.T) {
	for _, deferred := range []bool{true, false} {
		fd, bound, err := listen.TCP("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		if deferred {
			if err := listen.DeferAccept(fd, listen.DeferSeconds); err != nil {
				t.Fatal(err)
			}
		}
		c, err := net.Dial("tcp", bound)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if got := acceptWithin(fd, 200*time.Millisecond); (got >= 0) == deferred {
			t.Fatalf("deferred %v, a connection that sent nothing: accepted %v, want %v", deferred, got >= 0, !deferred)
		}
		if deferred {
			c.Write([]byte("GET"))
			conn := acceptWithin(fd, time.Second)
			if conn < 0 {
				t.Fatal("deferred: a connection that sent 3 bytes was not accepted within 1s")
			}
			defer unix.Close(conn)
			var b [8]byte
			if n, err := unix.Read(conn, b[:]); err != nil || string(b[:n]) != "GET" {
				t.Errorf("deferred: first read of the accepted connection: got %q, %v; want \"GET\"", b[:n], err)
			}
		}
	}
}

// acceptWithin polls the non-blocking listener fd until it hands out a
// connection or d passes (then -1).
func acceptWithin(fd int, d time.Duration) int {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if c, _, err := unix.Accept4(fd, unix.SOCK_CLOEXEC); err == nil {
			return c
		}
	}
	return -1
}
