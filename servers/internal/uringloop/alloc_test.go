package uringloop_test

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/httpconn"
	"flashbench/servers/uring"
)

// TestSteadyStateAllocs checks that a keep-alive request through the loop
// allocates nothing once the connection is warm: recv into a provided
// buffer, copy, parse, plan from the caches, sendmsg, all from memory the
// loop and the connection keep. The client makes raw system calls on a
// blocking socket, so that any allocation counted is the loop's.
// AllocsPerRun runs at GOMAXPROCS 1, where the loop, which keeps its P
// while it waits in the kernel, yields it to the client only when the
// runtime preempts it (every 10 ms): hence few runs.
// It runs with the core answering inline and with the uring
// architecture's Handler, whose residency test and pathname cache must
// not allocate either.
func TestSteadyStateAllocs(t *testing.T) {
	t.Run("inline", func(t *testing.T) {
		root := conformance.Docroot(t)
		_, addr := newLoop(t, newCore(t, root), nil, httpconn.ServeOptions{})
		steadyStateAllocs(t, addr)
	})
	t.Run("handler", func(t *testing.T) {
		core := newCore(t, conformance.Docroot(t))
		h, err := uring.NewHandler(core)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		_, addr := newLoop(t, core, h, httpconn.ServeOptions{}, h.Attach)
		steadyStateAllocs(t, addr)
	})
}

func steadyStateAllocs(t *testing.T, addr string) {
	fd := rawDial(t, addr)
	req := []byte("GET /500b.txt HTTP/1.1\r\nHost: x\r\n\r\n")
	resp := make([]byte, 4096)
	want := len(conformance.File("500b.txt"))
	roundTrip := func() {
		if _, err := unix.Write(fd, req); err != nil {
			t.Fatalf("write: %v", err)
		}
		n, got := 0, 0
		for got == 0 || n < got {
			k, err := unix.Read(fd, resp[n:])
			if err != nil || k == 0 {
				t.Fatalf("read after %d bytes: %d, %v", n, k, err)
			}
			n += k
			if i := bytes.Index(resp[:n], []byte("\r\n\r\n")); i >= 0 {
				got = i + 4 + want
			}
		}
	}
	for range 50 {
		roundTrip()
	}
	if allocs := testing.AllocsPerRun(100, roundTrip); allocs != 0 {
		t.Errorf("allocations per keep-alive request: got %v, want 0", allocs)
	}
}

// rawDial connects a blocking socket to addr ("127.0.0.1:port"), closed
// when the test ends.
func rawDial(t *testing.T, addr string) int {
	t.Helper()
	var port int
	for i := len(addr) - 1; i >= 0 && addr[i] != ':'; i-- {
		port = port + int(addr[i]-'0')*pow10(len(addr)-1-i)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	return fd
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}
