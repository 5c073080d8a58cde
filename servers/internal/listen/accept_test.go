package listen_test

import (
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/listen"
)

// quiet is how long a check that something does NOT happen waits.
const quiet = 300 * time.Millisecond

// counted is an Acceptor's counters.
type counted struct{ accepted, failed atomic.Uint64 }

func (c *counted) counters() listen.Counters {
	return listen.Counters{Accepted: &c.accepted, Failed: &c.failed}
}

// newListener opens a loopback listener and its Acceptor.
func newListener(t *testing.T, opts listen.Options) (*listen.Acceptor, int, string) {
	t.Helper()
	lfd, addr, err := listen.TCP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(lfd) })
	acc, err := listen.NewAcceptor(lfd, opts)
	if err != nil {
		t.Fatal(err)
	}
	return acc, lfd, addr
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// poll polls acc until it returns something other than Empty.
func poll(t *testing.T, acc *listen.Acceptor) (int, listen.Class) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if fd, c := acc.Poll(); c != listen.Empty {
			if fd >= 0 {
				t.Cleanup(func() { unix.Close(fd) })
			}
			return fd, c
		}
	}
	t.Fatal("Poll: nothing but Empty for 5s")
	return -1, 0
}

// TestPoll accepts non-blocking connections under MaxConns 1: nothing
// pending is Empty, a second connection waits (AtLimit) until the first
// is released, and every accepted one is counted and non-blocking.
func TestPoll(t *testing.T) {
	var n counted
	acc, _, addr := newListener(t, listen.Options{MaxConns: 1, Counters: n.counters()})
	if fd, c := acc.Poll(); fd != -1 || c != listen.Empty {
		t.Fatalf("Poll with nothing pending: got %d, %v, want -1, empty", fd, c)
	}
	dial(t, addr)
	fd, c := poll(t, acc)
	if c != listen.Accepted || fd < 0 {
		t.Fatalf("Poll with a connection pending: got %d, %v, want a descriptor, accepted", fd, c)
	}
	fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	fdfl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if fl&unix.O_NONBLOCK == 0 || fdfl&unix.FD_CLOEXEC == 0 {
		t.Errorf("accepted descriptor: got flags %#x, fd flags %#x, want O_NONBLOCK and FD_CLOEXEC", fl, fdfl)
	}
	dial(t, addr)
	if fd, c := poll(t, acc); fd != -1 || c != listen.AtLimit || !acc.Full() {
		t.Fatalf("Poll at MaxConns 1: got %d, %v, full %v, want -1, at-limit, full", fd, c, acc.Full())
	}
	acc.Release()
	if fd, c := poll(t, acc); fd < 0 || c != listen.Accepted {
		t.Fatalf("Poll after a Release: got %d, %v, want the waiting connection", fd, c)
	}
	if a, f := n.accepted.Load(), n.failed.Load(); a != 2 || f != 0 {
		t.Errorf("counted %d accepted, %d failed, want 2, 0", a, f)
	}
}

// waitAsync runs acc.Wait(stop) in a goroutine.
func waitAsync(acc *listen.Acceptor, stop <-chan struct{}) <-chan int {
	got := make(chan int, 1)
	go func() {
		fd, err := acc.Wait(stop)
		if err != nil {
			fd = -2
		}
		got <- fd
	}()
	return got
}

// expectFd waits for Wait's result: a connection when want is true, else
// -1 (stopped, no error).
func expectFd(t *testing.T, got <-chan int, want bool, what string) {
	t.Helper()
	select {
	case fd := <-got:
		if want && fd < 0 || !want && fd != -1 {
			t.Fatalf("%s: got Wait result %d, want %s", what, fd, map[bool]string{true: "a connection", false: "-1 and no error"}[want])
		}
		if fd >= 0 {
			unix.Close(fd)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: Wait still blocked after 5s", what)
	}
}

// TestWaitLimit blocks in accept4 under MaxConns 1: the second connection
// is not accepted until the first is released; stop and a listener shut
// down end the wait without an error.
func TestWaitLimit(t *testing.T) {
	var n counted
	acc, lfd, addr := newListener(t, listen.Options{Blocking: true, MaxConns: 1, Counters: n.counters()})
	if fl, _ := unix.FcntlInt(uintptr(lfd), unix.F_GETFL, 0); fl&unix.O_NONBLOCK != 0 {
		t.Errorf("listener of a blocking Acceptor: got O_NONBLOCK, want blocking")
	}
	stop := make(chan struct{})
	dial(t, addr)
	fd, err := acc.Wait(stop)
	if fd < 0 || err != nil {
		t.Fatalf("Wait with a connection pending: got %d, %v", fd, err)
	}
	unix.Close(fd)
	dial(t, addr)
	second := waitAsync(acc, stop)
	select {
	case fd := <-second:
		t.Fatalf("Wait at MaxConns 1: got %d within %v, want it to wait for a Release", fd, quiet)
	case <-time.After(quiet):
	}
	acc.Release()
	expectFd(t, second, true, "after a Release")
	if a := n.accepted.Load(); a != 2 {
		t.Errorf("counted %d accepted, want 2", a)
	}

	blocked := waitAsync(acc, stop) // at the limit again: waits for a slot
	close(stop)
	expectFd(t, blocked, false, "stop closed")
	acc.Release()
	open := waitAsync(acc, make(chan struct{}))
	time.Sleep(quiet) // in accept4 by now, most likely
	unix.Shutdown(lfd, unix.SHUT_RD)
	expectFd(t, open, false, "listener shut down")
}

// TestWaitTurn checks that Wait holds Options.Turn: a thread does not
// accept while another holds the turn.
func TestWaitTurn(t *testing.T) {
	var turn sync.Mutex
	acc, _, addr := newListener(t, listen.Options{Blocking: true, Turn: &turn})
	dial(t, addr)
	turn.Lock()
	got := waitAsync(acc, make(chan struct{}))
	select {
	case fd := <-got:
		t.Fatalf("Wait while the turn is held: got %d, want it to wait for the turn", fd)
	case <-time.After(quiet):
	}
	turn.Unlock()
	expectFd(t, got, true, "turn released")
}

// TestResource fills the descriptor table (RLIMIT_NOFILE at the lowest
// free descriptor) under both accept routines, an Acceptor's Wait and a
// Net listener's Accept: each counts the failures, backs off instead of
// spinning, and accepts the pending connection once descriptors are free.
func TestResource(t *testing.T) {
	tests := []struct {
		name string
		// open opens a listener counting in n, and returns its address
		// and what starts an accept in a goroutine (the channel gets a
		// descriptor, 0 or -1).
		open func(t *testing.T, n *counted) (addr string, accept func() <-chan int)
	}{
		{"Wait", func(t *testing.T, n *counted) (string, func() <-chan int) {
			acc, _, addr := newListener(t, listen.Options{Blocking: true, Counters: n.counters()})
			return addr, func() <-chan int { return waitAsync(acc, make(chan struct{})) }
		}},
		{"Net", func(t *testing.T, n *counted) (string, func() <-chan int) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ln := listen.Net(inner, 0, n.counters())
			t.Cleanup(func() { ln.Close() })
			return inner.Addr().String(), func() <-chan int {
				got := make(chan int, 1)
				go func() {
					c, err := ln.Accept()
					if err != nil {
						got <- -2
						return
					}
					c.Close()
					got <- 0
				}()
				return got
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n counted
			addr, accept := tt.open(t, &n)
			dial(t, addr)
			var old syscall.Rlimit
			if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
				t.Fatal(err)
			}
			lowest, err := unix.Dup(0)
			if err != nil {
				t.Fatal(err)
			}
			unix.Close(lowest)
			full := syscall.Rlimit{Cur: uint64(lowest), Max: old.Max}
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &full); err != nil {
				t.Fatal(err)
			}
			got := accept()
			time.Sleep(4 * listen.Backoff)
			failed := n.failed.Load()
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
				t.Fatal(err)
			}
			expectFd(t, got, true, "descriptors free again")
			// Four back-offs allow about five attempts; a loop that does
			// not back off makes thousands.
			if failed == 0 || failed > 10 {
				t.Errorf("failed accepts over %v with the table full: got %d, want 1 to 10 (one per back-off)", 4*listen.Backoff, failed)
			}
		})
	}
}

// TestAdmitRefused checks the accounting of accepts the kernel made on a
// loop's behalf: Admit takes slots up to MaxConns and counts each, gives
// none beyond until a Release; Refused classifies an errno as Poll does
// and counts the failures only.
func TestAdmitRefused(t *testing.T) {
	var n counted
	acc, _, _ := newListener(t, listen.Options{MaxConns: 2, Counters: n.counters()})
	if !acc.Admit() || !acc.Admit() {
		t.Fatal("Admit with slots free: got false, want true")
	}
	if acc.Admit() || !acc.Full() {
		t.Fatalf("Admit at MaxConns 2: got true (or not Full), want false")
	}
	acc.Release()
	if !acc.Admit() {
		t.Fatal("Admit after a Release: got false, want true")
	}
	if got := n.accepted.Load(); got != 3 {
		t.Errorf("accepted: got %d, want 3 (one per admitted connection)", got)
	}
	for _, tt := range []struct {
		errno syscall.Errno
		want  listen.Class
	}{{unix.EMFILE, listen.Resource}, {unix.ECONNABORTED, listen.Retry}, {unix.EINVAL, listen.Closed}, {unix.EIO, listen.Fatal}} {
		if got := acc.Refused(tt.errno); got != tt.want {
			t.Errorf("Refused(%v): got %v, want %v", tt.errno, got, tt.want)
		}
	}
	if got := n.failed.Load(); got != 2 {
		t.Errorf("failed: got %d, want 2 (EMFILE and EIO)", got)
	}
}
