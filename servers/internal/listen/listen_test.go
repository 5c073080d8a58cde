package listen_test

import (
	"net"
	"strings"
	"testing"

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
