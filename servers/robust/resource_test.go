package robust_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fdLimit is the hard RLIMIT_NOFILE the exhaustion case gives the server.
const fdLimit = 64

// pressureConns is how many connections the exhaustion case opens: more
// than the server may hold descriptors for.
const pressureConns = 3 * fdLimit

// maxBusyShare bounds the CPU time the server's accepting processes use
// while its descriptor table is full, as a share of the time: a loop that
// backs off sleeps between attempts (all the architectures used under 2%
// of a core here); one that retries accept at once spins, and run at the
// highest priority it takes a core even on a loaded machine (five
// spinning at once on this 2-core machine got 34% to 90% each).
const maxBusyShare = 0.25

// resourceCases are descriptor exhaustion, killed processes and graceful
// shutdown.
func resourceCases() []robustCase {
	return []robustCase{
		{name: "fd-exhaustion", archs: allArchs(), custom: true, run: testFDExhaustion},
		{name: "kill-worker", archs: []string{"prefork"}, run: testKillChild},
		{name: "kill-helper", archs: []string{"amped", "flashlite"}, args: []string{"--no-pathname-cache"}, run: testKillChild},
		// The slow download outlasts the suite's write timeout, which the
		// baselines apply to a whole response rather than to its progress.
		{name: "graceful-shutdown", archs: allArchs(), args: []string{"--shutdown-timeout", "10s", "--write-timeout", "60s"}, run: testGracefulShutdown},
	}
}

// testFDExhaustion runs the server under prlimit --nofile=64:64, opens
// more connections than it can hold, checks that it neither dies nor spins
// (the CPU time of its accepting processes over one second of pressure),
// then closes them and checks that it serves again. As root, the server
// runs at nice -20, so that a spinning loop gets a CPU however loaded the
// machine is, and its CPU time shows it.
func testFDExhaustion(t *testing.T, e *env) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit (util-linux) not installed")
	}
	// Longer timeouts than the other cases: the connections must stay
	// open through the measurement. A forking server gets few children.
	extra := []string{"--header-timeout", "20s", "--idle-timeout", "20s", "--listen", "127.0.0.1:0"}
	if e.arch == "forking" {
		extra = append(extra, "--max-children", "16")
	}
	args := serverArgs(e.arch, e.root, extra...)
	wrapper := []string{"prlimit", "--nofile=" + itoa(fdLimit) + ":" + itoa(fdLimit), "--"}
	if os.Geteuid() == 0 {
		wrapper = append([]string{"nice", "-n", "-20"}, wrapper...)
	}
	s := launch(t, wrapper, args...)
	mustServe(t, s.addr, "before the pressure")
	conns := openMany(s.addr, pressureConns)
	t.Logf("opened %d of %d connections", len(conns), pressureConns)
	acceptors := acceptingProcs(t, e.arch, s.pid)
	before, start := cpuTicks(t, acceptors), time.Now()
	time.Sleep(time.Second)
	used, wall := cpuTicks(t, acceptors)-before, time.Since(start)
	share := float64(used) / clockTicks / wall.Seconds()
	t.Logf("CPU of %v over %v of pressure: %d ticks (%.0f%% of one core)", acceptors, wall.Round(time.Millisecond), used, 100*share)
	if share > maxBusyShare {
		t.Errorf("CPU while the descriptor table is full: got %.0f%% of one core, want below %.0f%% (spinning on accept?)",
			100*share, 100*maxBusyShare)
	}
	select {
	case <-s.done:
		t.Fatalf("server exited under descriptor pressure; stderr: %s", s.errText())
	default:
	}
	for _, c := range conns {
		c.Close()
	}
	var err error
	if !waitFor(ioTimeout, func() bool { err = fetchOnce(s.addr); return err == nil }) {
		t.Errorf("after the pressure ended: %v, want it served", err)
	}
}

// acceptingProcs returns the processes of a server of arch that accept
// connections: a prefork server's workers, every other server's main
// process (a forking server's children only serve theirs).
func acceptingProcs(t *testing.T, arch string, pid int) []int {
	if arch == "prefork" {
		return children(t, pid)
	}
	return []int{pid}
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times (100 on every
// Linux architecture Go supports).
const clockTicks = 100

// openMany opens up to n connections to addr, giving up on those the
// backlog cannot take.
func openMany(addr string, n int) []net.Conn {
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return conns
}

// fetchOnce GETs 500b.txt, the check that a server serves.
func fetchOnce(addr string) error {
	resp, err := roundTrip(addr, get1("/500b.txt"), false)
	if err == nil && resp.Status != 200 {
		err = errors.New("status " + itoa(resp.Status))
	}
	return err
}

// testGracefulShutdown starts a slow download of big.bin, sends SIGTERM:
// new connections are refused, the download completes whole, the server
// exits 0.
func testGracefulShutdown(t *testing.T, e *env) {
	c := dial(t, e.addr())
	setRcvBuf(t, c, 64<<10)
	if _, err := c.Write([]byte("GET /big.bin HTTP/1.0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 0, bigSize+4096)
	buf := make([]byte, 128<<10)
	read := func() error {
		c.SetReadDeadline(time.Now().Add(ioTimeout))
		n, err := c.Read(buf)
		body = append(body, buf[:n]...)
		time.Sleep(10 * time.Millisecond) // a slow client
		return err
	}
	for len(body) < 512<<10 {
		if err := read(); err != nil {
			t.Fatalf("before SIGTERM: %v after %d bytes", err, len(body))
		}
	}
	if err := e.srv.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var derr error
	refused := waitFor(5*time.Second, func() bool {
		var nc net.Conn
		if nc, derr = net.DialTimeout("tcp", e.addr(), time.Second); derr == nil {
			nc.Close()
		}
		return errors.Is(derr, syscall.ECONNREFUSED)
	})
	if !refused {
		t.Errorf("after SIGTERM: new connections got %v, want them refused", derr)
	}
	var err error
	for err == nil {
		err = read()
	}
	if !errors.Is(err, io.EOF) {
		t.Errorf("download in flight: ended with %v after %d bytes, want EOF", err, len(body))
	}
	checkDownload(t, body)
	if err := e.srv.Wait(15 * time.Second); err != nil {
		t.Errorf("exit after SIGTERM: %v, want status 0", err)
	}
}

// checkDownload checks that raw is a 200 response carrying big.bin whole.
func checkDownload(t *testing.T, raw []byte) {
	t.Helper()
	head, body, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	switch {
	case !ok || !bytes.HasPrefix(head, []byte("HTTP/1.")) || !bytes.Contains(head[:12], []byte(" 200")):
		t.Errorf("download in flight: got head %q, want a 200", clip(head))
	case !bytes.Equal(body, bigFile):
		t.Errorf("download in flight: got %d bytes differing at byte %d, want big.bin's %d", len(body), firstDiff(body, bigFile), bigSize)
	}
}
