package loadgen

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSourceSpread checks when the dialer binds source addresses: a
// loopback target in connection-per-request mode connects unbound until the
// ephemeral ports are reported exhausted, then spreads over 127.0.0.x;
// sources the user named are bound from the start.
func TestSourceSpread(t *testing.T) {
	tests := []struct {
		name          string
		cfg           Config
		before, after string // source address before and after exhaustion
		retry         bool   // whether exhaustion enables a spread
	}{
		{"default", Config{RequestsPerConn: 1}, "127.0.0.1", "127.0.0.38", true},
		{"keep-alive", Config{RequestsPerConn: 0}, "127.0.0.1", "127.0.0.1", false},
		{"named sources", Config{RequestsPerConn: 1, Sources: parseAddrs(t, "127.0.0.7", "127.0.0.9")},
			"127.0.0.9", "127.0.0.7", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			tg, err := parseTarget("http://" + ln.Addr().String() + "/")
			if err != nil {
				t.Fatal(err)
			}
			d := newDialer(&tt.cfg, tg, 1)
			if got := dialFrom(t, d, ln); got != tt.before {
				t.Errorf("source before exhaustion: got %s, want %s", got, tt.before)
			}
			if got := d.exhausted(); got != tt.retry {
				t.Errorf("exhausted: got %v, want %v", got, tt.retry)
			}
			if got := dialFrom(t, d, ln); got != tt.after {
				t.Errorf("source after exhaustion: got %s, want %s", got, tt.after)
			}
			if d.exhausted() {
				t.Errorf("exhausted a second time: got true, want false (nothing left to enable)")
			}
		})
	}
}

func parseAddrs(t *testing.T, addrs ...string) []netip.Addr {
	t.Helper()
	var out []netip.Addr
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ip)
	}
	return out
}

// dialFrom connects one socket of d to ln and returns the source address
// the server sees.
func dialFrom(t *testing.T, d *dialer, ln net.Listener) string {
	t.Helper()
	c := &conn{fd: -1}
	errno := d.connect(c)
	if c.fd >= 0 {
		defer unix.Close(c.fd)
	}
	if errno != 0 && errno != unix.EINPROGRESS {
		t.Fatalf("connect: %v", errno)
	}
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	sc, err := ln.Accept()
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	defer sc.Close()
	return sc.RemoteAddr().(*net.TCPAddr).IP.String()
}
