package cgi

import (
	"bytes"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSIOCOUTQNotEnough shows why a shared-memory buffer sent with
// sendfile from the pool's memfd (a kept body) is detached before its
// range is reused, while one sent with writev (a body of one response) is
// reused at once. After sendfile, waiting for the data to be acknowledged
// (SIOCOUTQ drained) is not enough: on loopback the acknowledged bytes
// still sit in the receiver's queue as references to the very pages
// sendfile took, so a rewrite in place reaches the client. That case is
// the control of the next: were sendfile's data a copy, the punched case
// would pass whatever the punch did. Once the pages are punched out of
// the memfd, a rewrite goes to fresh pages and must never reach the
// client; nor may one made as soon as a writev returns: writev copies
// into the socket's own buffers.
func TestSIOCOUTQNotEnough(t *testing.T) {
	const size = 64 << 10
	for _, tt := range []struct {
		name            string
		sendfile, punch bool
	}{{"sendfile", true, false}, {"sendfile-punched", true, true}, {"writev", false, false}} {
		t.Run(tt.name, func(t *testing.T) {
			memfd, err := newPool(size)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(memfd)
			mem, err := unix.Mmap(memfd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Munmap(mem)
			copy(mem, bytes.Repeat([]byte("A"), size))
			client, sfd := loopbackPair(t)
			if tt.sendfile {
				for off := int64(0); off < size; {
					if _, err := unix.Sendfile(sfd, memfd, &off, int(size-off)); err != nil && err != unix.EAGAIN {
						t.Fatal(err)
					}
				}
				for range 1000 { // until every byte is acknowledged
					if q, err := unix.IoctlGetInt(sfd, unix.SIOCOUTQ); err != nil || q == 0 {
						break
					}
					time.Sleep(time.Millisecond)
				}
			} else {
				for off := 0; off < size; {
					n, err := unix.Writev(sfd, [][]byte{mem[off:]})
					if err != nil && err != unix.EAGAIN {
						t.Fatal(err)
					}
					off += max(n, 0)
				}
			}
			if tt.punch {
				if err := unix.Fallocate(memfd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 0, size); err != nil {
					t.Fatal(err)
				}
			}
			copy(mem, bytes.Repeat([]byte("B"), size))
			got := make([]byte, 0, size)
			buf := make([]byte, size)
			client.SetReadDeadline(time.Now().Add(5 * time.Second))
			for len(got) < size {
				n, err := client.Read(buf)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, buf[:n]...)
			}
			rewritten := bytes.Count(got, []byte("B"))
			switch {
			case tt.sendfile && !tt.punch && rewritten == 0:
				t.Errorf("rewrite after SIOCOUTQ drained: got none of %d bytes rewritten at the client, want some (sent by reference)", size)
			case (!tt.sendfile || tt.punch) && rewritten > 0:
				t.Errorf("rewrite after %s: got %d rewritten bytes at the client, want 0", tt.name, rewritten)
			}
		})
	}
}

// loopbackPair returns the client end of a loopback TCP connection and
// the server end's descriptor, both closed at the end of t.
func loopbackPair(t *testing.T) (net.Conn, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	f, err := server.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return client, int(f.Fd())
}
