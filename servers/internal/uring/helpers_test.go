package uring_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/internal/uring"
)

// newRing sets up a ring that the test's cleanup closes. It skips only
// when the machine refuses io_uring, and says which limit refused it.
func newRing(t testing.TB, o uring.Options) *uring.Ring {
	t.Helper()
	r, err := uring.New(o)
	if errors.Is(err, uring.ErrUnavailable) {
		v, rerr := os.ReadFile("/proc/sys/kernel/io_uring_disabled")
		t.Skipf("io_uring is unavailable on this machine (kernel.io_uring_disabled = %q, %v): %v", strings.TrimSpace(string(v)), rerr, err)
	}
	if err != nil {
		t.Fatalf("New(%+v): %v", o, err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r
}

// getSQE returns an SQE, failing the test when the SQ is full.
func getSQE(t testing.TB, r *uring.Ring) *uring.SQE {
	t.Helper()
	sqe := r.GetSQE()
	if sqe == nil {
		t.Fatal("GetSQE: got nil (SQ full), want an SQE")
	}
	return sqe
}

// reap submits what is prepared and returns the next n completions,
// failing the test if they do not come within five seconds.
func reap(t testing.TB, r *uring.Ring, n int) []uring.CQE {
	t.Helper()
	out := make([]uring.CQE, 0, n)
	buf := make([]uring.CQE, n)
	deadline := time.Now().Add(5 * time.Second)
	for len(out) < n {
		if time.Now().After(deadline) {
			t.Fatalf("reap: got %d completions %+v in 5s, want %d", len(out), out, n)
		}
		if _, err := r.SubmitAndWaitTimeout(1, 100*time.Millisecond); err != nil {
			t.Fatalf("SubmitAndWaitTimeout: %v", err)
		}
		k := r.PeekBatch(buf[:n-len(out)])
		out = append(out, buf[:k]...)
	}
	return out
}

// byUserData indexes completions by user data, failing the test on a
// duplicate: every operation here completes once.
func byUserData(t testing.TB, cqes []uring.CQE) map[uint64]uring.CQE {
	t.Helper()
	m := make(map[uint64]uring.CQE, len(cqes))
	for _, c := range cqes {
		if _, dup := m[c.UserData]; dup {
			t.Fatalf("completions %+v: user data %#x twice, want once", cqes, c.UserData)
		}
		m[c.UserData] = c
	}
	return m
}

// tcpPair returns the two ends of a loopback TCP connection as blocking
// raw sockets, closed by the test's cleanup.
func tcpPair(t testing.TB) (client, server int) {
	t.Helper()
	lfd, port := listenTCP(t)
	client, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(client) })
	if err := unix.Connect(client, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	server, _, err = unix.Accept4(lfd, unix.SOCK_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(server) })
	return client, server
}

// listenTCP returns a loopback listening socket and its port.
func listenTCP(t testing.TB) (fd, port int) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 64); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return fd, sa.(*unix.SockaddrInet4).Port
}

// readFull reads exactly n bytes from the raw socket fd.
func readFull(fd, n int) ([]byte, error) {
	b := make([]byte, n)
	for got := 0; got < n; {
		k, err := unix.Read(fd, b[got:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return b[:got], err
		}
		if k == 0 {
			return b[:got], errors.New("end of stream")
		}
		got += k
	}
	return b, nil
}

// writeFile writes s to a new file at path.
func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }
