package cgi

import (
	"bytes"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSIOCOUTQNotEnough shows why a sent pool buffer is punched out of
// the memfd rather than reused once its data is acknowledged: on loopback
// the acknowledged bytes still sit in the receiver's queue as references
// to the very pages sendfile took. Rewriting the buffer after SIOCOUTQ
// drained reaches the client on this kernel (logged, not required);
// rewriting it after a punch must not.
func TestSIOCOUTQNotEnough(t *testing.T) {
	const size = 64 << 10
	for _, withPunch := range []bool{false, true} {
		memfd, err := newPool(size)
		if err != nil {
			t.Fatal(err)
		}
		mem, err := unix.Mmap(memfd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			t.Fatal(err)
		}
		copy(mem, bytes.Repeat([]byte("A"), size))
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		server, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		f, err := server.(*net.TCPConn).File()
		if err != nil {
			t.Fatal(err)
		}
		sfd := int(f.Fd())
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
		if withPunch {
			if err := punch(memfd, 0, size); err != nil {
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
		case withPunch && rewritten > 0:
			t.Errorf("after a punch: got %d rewritten bytes, want 0", rewritten)
		case !withPunch:
			t.Logf("rewrite after SIOCOUTQ drained: %d of %d bytes reached the client rewritten", rewritten, size)
		}
		unix.Munmap(mem)
		unix.Close(memfd)
		f.Close()
		server.Close()
		client.Close()
		ln.Close()
	}
}
