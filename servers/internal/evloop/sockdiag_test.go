package evloop

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSockDiag reads both ends of a loopback connection through sock_diag
// as a lease drain does, at each step of a response: sent and partly
// read, then the server's FIN, then the server's socket destroyed (gone
// from the tables; its client still reads what it had received).
func TestSockDiag(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	d, err := openSockDiag()
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	if _, err := server.Write(make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(client, make([]byte, 600)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		step            func()
		acked, received uint64
		unread          uint32
		finSent         bool
	}{
		{"600 of 1000 read", func() {}, 1000, 1000, 400, false},
		{"server sent FIN", func() { server.(*net.TCPConn).CloseWrite() }, 1001, 1001, 400, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.step()
			var o, p sockStat
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
				o, p = diagPair(t, d, port)
				if o.info && o.acked == tt.acked && o.wqueue == 0 || time.Now().After(deadline) {
					break
				}
			}
			if !o.info || !p.info || o.acked != tt.acked || p.received != tt.received || o.wqueue != 0 {
				t.Errorf("got acked %d, received %d, wqueue %d (info %v %v); want %d, %d, 0",
					o.acked, p.received, o.wqueue, o.info, p.info, tt.acked, tt.received)
			}
			if p.unread() != tt.unread || o.finSent() != tt.finSent || p.finReceived() != tt.finSent {
				t.Errorf("got unread %d, FIN sent %v, received %v; want %d, %v", p.unread(), o.finSent(), p.finReceived(), tt.unread, tt.finSent)
			}
			if o.inode == 0 {
				t.Error("got inode 0 for a socket its process holds")
			}
		})
	}
	o, _ := diagPair(t, d, port)
	if err := d.destroy(o); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	left := 0
	if err := d.dump(unix.AF_INET, port, false, func(sockKey, sockStat) { left++ }); err != nil || left != 0 {
		t.Errorf("after destroy: got %d server ends (%v), want none", left, err)
	}
	rest, err := io.ReadAll(client)
	if len(rest) != 400 || err != nil && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		t.Errorf("after destroy: got %d bytes, %v; want the 400 unread, then the end", len(rest), err)
	}
}

// diagPair returns the server's and the client's end of the only
// connection to port.
func diagPair(t *testing.T, d *sockDiag, port uint16) (ours, peer sockStat) {
	t.Helper()
	var no, np int
	var key sockKey
	if err := d.dump(unix.AF_INET, port, false, func(k sockKey, s sockStat) { ours, key, no = s, k, no+1 }); err != nil {
		t.Fatal(err)
	}
	if err := d.dump(unix.AF_INET, port, true, func(k sockKey, s sockStat) {
		if k == key {
			peer, np = s, np+1
		}
	}); err != nil {
		t.Fatal(err)
	}
	if no != 1 || np != 1 {
		t.Fatalf("got %d server ends, %d matching client ends; want 1 and 1", no, np)
	}
	return ours, peer
}
