package robust_test

import (
	"bufio"
	"errors"
	"net"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/listen"
)

// blockingPoolArchs serve a connection with a whole thread or process
// for its life, from a fixed pool: a slowloris that holds more
// connections than the pool has members starves every other client while
// it lasts, as it does Apache prefork. The test records that and checks
// what must hold all the same: service comes back when the attack ends,
// and nothing leaks.
var blockingPoolArchs = []string{"threaded", "prefork"}

// massSlowlorisArchs are attacked with attackConns connections: the
// pools, and the event loops, which must serve others meanwhile. A
// forking server would start a process per attacking connection.
var massSlowlorisArchs = append([]string{"sped", "amped", "flashlite", "uring"}, blockingPoolArchs...)

// Slowloris at scale: far more connections than the pools (64 threads,
// 8 workers), for a bounded time.
const (
	attackConns = 800
	attackTime  = 6 * time.Second
	// attackTick is how often each attacking connection sends one more
	// header field line.
	attackTick = 300 * time.Millisecond
	// waitDuring bounds the fresh request sent while the attack lasts:
	// it may go unanswered (recorded, not failed).
	waitDuring = 3 * time.Second
	// recoverWithin bounds the fresh request sent when the attack ends:
	// it must be answered by then.
	recoverWithin = 5 * time.Second
)

// testMassSlowloris holds attackConns slowloris connections open for
// attackTime (redialling those the server closes) while a fresh request
// is sent: an event loop must answer it within waitDuring, a pool's wait
// is recorded. Then it ends the attack: a fresh request must be served
// within recoverWithin, the server's process tree must hold no more
// descriptors than before the attack, and no prefork worker may have
// died.
func testMassSlowloris(t *testing.T, e *env) {
	needConns(t, attackConns)
	pid := e.srv.Pid()
	kids := warmPool(t, e)
	fds := func() int { return attackedFDs(t, e, pid) }
	fdsBefore := fds()
	a := startAttack(e.addr(), attackConns)
	ready := a.waitOpen(10 * time.Second)
	attackEnd := time.Now().Add(attackTime)
	d, err := timedFetch(e.addr(), waitDuring)
	switch {
	case err != nil && slices.Contains(blockingPoolArchs, e.arch):
		t.Logf("%s under slowloris (%d of %d connections open): a fresh request got %v after %v (expected of the architecture)",
			e.arch, ready, attackConns, err, d.Round(time.Millisecond))
	case err != nil:
		t.Errorf("%s under slowloris (%d of %d connections open): a fresh request got %v after %v, want it answered within %v",
			e.arch, ready, attackConns, err, d.Round(time.Millisecond), waitDuring)
	default:
		t.Logf("%s under slowloris (%d of %d connections open): a fresh request was answered after %v",
			e.arch, ready, attackConns, d.Round(time.Millisecond))
	}
	time.Sleep(time.Until(attackEnd))
	st := a.stop()
	t.Logf("attack: %d dials, %d failed dials, %d connections closed by the server", st.dials, st.dialErrors, st.closed)
	if ready < attackConns {
		t.Fatalf("slowloris: got %d of %d connections open, want all (listen backlog %d)", ready, attackConns, listen.Backlog())
	}
	select {
	case <-e.srv.Done():
		t.Fatalf("server exited under slowloris; stderr: %s", e.srv.Stderr())
	default:
	}
	if d, err := timedFetch(e.addr(), recoverWithin); err != nil {
		t.Errorf("after the attack: a fresh request got %v after %v, want it served within %v", err, d.Round(time.Millisecond), recoverWithin)
	} else {
		t.Logf("after the attack: a fresh request was answered after %v", d.Round(time.Millisecond))
	}
	checkFDs(t, "connections leaked by the attack", fds, fdsBefore)
	t.Logf("descriptors of the server: %d before the attack, %d after", fdsBefore, fds())
	if after := children(t, pid); e.arch == "prefork" && !slices.Equal(after, kids) {
		t.Errorf("prefork workers: got %v after the attack, want %v (a worker died)", after, kids)
	}
}

// attackedFDs counts the descriptors of the server at pid that lead to
// no live AMPED helper (unpooledFDs): those of its main process and, for
// the other architectures, of all its processes (prefork workers).
func attackedFDs(t *testing.T, e *env, pid int) int {
	if e.arch == "amped" || e.arch == "flashlite" {
		return unpooledFDs(e.root, []int{pid}, children(t, pid))
	}
	return unpooledFDs(e.root, serverProcs(t, pid), nil)
}

// warmPool waits for a full prefork pool and makes every member serve
// 500b.txt once, so that what the attack's requests open and cache (each
// worker has its own pathname cache) is open before the descriptors are
// counted; then it waits until the server has closed those connections.
// It returns the server's children.
func warmPool(t *testing.T, e *env) []int {
	t.Helper()
	pid, n := e.srv.Pid(), 1
	if e.arch == "prefork" {
		n = preforkWorkers
	}
	kids := waitChildren(t, pid, func(p []int) bool { return len(p) >= n || e.arch != "prefork" })
	// Each connection stays open after its answer, holding its worker,
	// so the next one is served by another.
	conns := make([]net.Conn, n)
	for i := range conns {
		c := dial(t, e.addr())
		c.SetDeadline(time.Now().Add(ioTimeout))
		if _, err := c.Write([]byte(get1("/500b.txt"))); err != nil {
			t.Fatalf("warm-up request %d: %v", i, err)
		}
		if resp, err := conformance.ReadResponse(bufio.NewReader(c), false); err != nil || resp.Status != 200 {
			t.Fatalf("warm-up request %d: got %v, %v; want 200", i, statusOf(resp), err)
		}
		conns[i] = c
	}
	for _, c := range conns {
		c.Close()
	}
	if !waitFor(ioTimeout, func() bool {
		return !slices.ContainsFunc(conns, func(c net.Conn) bool { return serverHolds(t, c) })
	}) {
		t.Fatalf("warm-up: the server still holds its connections %v after the client closed them", ioTimeout)
	}
	return kids
}

// needConns skips unless this process may open n connections at once
// besides what the rest of the suite holds, and the kernel queues them
// (net.core.somaxconn): a limit of the machine, not of the server.
func needConns(t *testing.T, n int) {
	t.Helper()
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(os.NewSyscallError("getrlimit", err))
	}
	if lim.Cur < uint64(4*n) {
		t.Skipf("RLIMIT_NOFILE is %d: too low for %d attacking connections beside the parallel cases", lim.Cur, n)
	}
	if b := listen.Backlog(); b < n {
		t.Skipf("net.core.somaxconn is %d: the kernel queues fewer than %d connections", b, n)
	}
}

// timedFetch GETs 500b.txt on a fresh connection, all within d, and
// returns how long it took.
func timedFetch(addr string, d time.Duration) (time.Duration, error) {
	start := time.Now()
	c, err := net.DialTimeout("tcp", addr, d)
	if err != nil {
		return time.Since(start), err
	}
	defer c.Close()
	c.SetDeadline(start.Add(d))
	if _, err := c.Write([]byte(get1("/500b.txt"))); err != nil {
		return time.Since(start), err
	}
	resp, err := conformance.ReadResponse(bufio.NewReader(c), false)
	switch {
	case err != nil:
		return time.Since(start), err
	case resp.Status != 200 || string(resp.Body) != string(conformance.File("500b.txt")):
		return time.Since(start), errors.New("got status " + strconv.Itoa(resp.Status) + ", want 200 with 500b.txt")
	}
	return time.Since(start), nil
}

// attack is a slowloris: n connections, each sending a request line and
// then one header field line every attackTick, never the end of the
// header. A connection the server closes is dialled again.
type attack struct {
	addr  string
	conns []net.Conn
	quit  chan struct{}
	done  chan attackStats
	open  chan int // the open count after the first round of dials
}

// attackStats counts what the attack did.
type attackStats struct {
	dials, dialErrors, closed int
}

// startAttack starts a slowloris of n connections against addr.
func startAttack(addr string, n int) *attack {
	a := &attack{addr: addr, conns: make([]net.Conn, n), quit: make(chan struct{}),
		done: make(chan attackStats, 1), open: make(chan int, 1)}
	go a.run()
	return a
}

// run keeps the connections open and trickling until stop.
func (a *attack) run() {
	var st attackStats
	defer func() {
		for _, c := range a.conns {
			if c != nil {
				c.Close()
			}
		}
		a.done <- st
	}()
	for round := 0; ; round++ {
		open := 0
		for i, c := range a.conns {
			if c != nil && !a.trickle(c, round) {
				c.Close()
				c, a.conns[i] = nil, nil
				st.closed++
			}
			if c == nil {
				if a.conns[i] = a.dial(&st); a.conns[i] == nil {
					continue
				}
			}
			open++
		}
		if round == 0 {
			a.open <- open
		}
		select {
		case <-a.quit:
			return
		case <-time.After(attackTick):
		}
	}
}

// dial opens one attacking connection and sends its request line.
func (a *attack) dial(st *attackStats) net.Conn {
	st.dials++
	c, err := net.DialTimeout("tcp", a.addr, time.Second)
	if err == nil {
		c.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err = c.Write([]byte("GET /500b.txt HTTP/1.1\r\nHost: localhost\r\n")); err != nil {
			c.Close()
		}
	}
	if err != nil {
		st.dialErrors++
		return nil
	}
	return c
}

// trickle sends c one more header field line; false means the server has
// closed it.
func (a *attack) trickle(c net.Conn, round int) bool {
	c.SetWriteDeadline(time.Now().Add(time.Second))
	_, err := c.Write([]byte("X-Slow-" + strconv.Itoa(round) + ": 1\r\n"))
	return err == nil
}

// waitOpen returns how many connections the first round opened.
func (a *attack) waitOpen(d time.Duration) int {
	select {
	case n := <-a.open:
		return n
	case <-time.After(d):
		return 0
	}
}

// stop ends the attack, closing every connection, and returns its counts.
func (a *attack) stop() attackStats {
	close(a.quit)
	return <-a.done
}
