package listen_test

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"flashbench/servers/internal/listen"
)

// acceptAsync runs ln.Accept in a goroutine.
func acceptAsync(ln net.Listener) <-chan net.Conn {
	got := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			c = nil
		}
		got <- c
	}()
	return got
}

// TestNet bounds a net.Listener to one open connection: the second is
// not accepted until the first is closed, a connection keeps the methods
// of *net.TCPConn, accepts are counted, and Close ends an Accept waiting
// for a slot.
func TestNet(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n counted
	ln := listen.Net(inner, 1, n.counters())
	defer ln.Close()
	dial(t, inner.Addr().String())
	first, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := first.(interface {
		io.ReaderFrom
		CloseWrite() error
	}); !ok {
		t.Errorf("bounded connection %T: want ReadFrom and CloseWrite of *net.TCPConn", first)
	}
	dial(t, inner.Addr().String())
	second := acceptAsync(ln)
	select {
	case c := <-second:
		t.Fatalf("Accept at the bound of 1: got %v within %v, want it to wait for a Close", c, quiet)
	case <-time.After(quiet):
	}
	first.Close()
	first.Close() // a second Close frees nothing more
	select {
	case c := <-second:
		if c == nil {
			t.Fatal("Accept after a Close: got an error, want the waiting connection")
		}
		defer c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("Accept still waiting 5s after the first connection closed")
	}
	if a, f := n.accepted.Load(), n.failed.Load(); a != 2 || f != 0 {
		t.Errorf("counted %d accepted, %d failed, want 2, 0", a, f)
	}
	blocked := acceptAsync(ln) // at the bound again
	ln.Close()
	select {
	case c := <-blocked:
		if c != nil {
			t.Fatalf("Accept after Close: got %v, want an error", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept waiting for a slot still blocked 5s after Close")
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept on a closed listener: got %v, want net.ErrClosed", err)
	}
}

// TestNetUnbounded checks that without a bound the connections are the
// listener's own.
func TestNetUnbounded(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := listen.Net(inner, 0, listen.Counters{})
	defer ln.Close()
	dial(t, inner.Addr().String())
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*net.TCPConn); !ok {
		t.Errorf("unbounded connection: got %T, want *net.TCPConn", c)
	}
}
