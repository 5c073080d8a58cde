package prefork_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/proctree"
	"flashbench/servers/internal/webtest"
)

func TestMain(m *testing.M) { webtest.Main(m) }

// TestConformance runs the conformance suite against `webserver --arch
// prefork` over real sockets.
func TestConformance(t *testing.T) {
	root := conformance.Docroot(t)
	s := webtest.Start(t, "--arch", "prefork", "--root", root, "--workers", "4")
	waitWorkers(t, s.Pid(), 4)
	conformance.Run(t, s.Addr, root)
}

// TestKillWorkerUnderLoad kills a worker with SIGKILL while clients load
// the pool: the master starts a new one, the others keep serving (at most
// the killed worker's connection fails), and no zombie is left.
func TestKillWorkerUnderLoad(t *testing.T) {
	const n = 4
	root := conformance.Docroot(t)
	statsFile := filepath.Join(t.TempDir(), "stats.json")
	s := webtest.Start(t, "--arch", "prefork", "--root", root, "--workers", fmt.Sprint(n), "--stats-file", statsFile)
	before := waitWorkers(t, s.Pid(), n)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ok, failed int
	var firstErr error
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5000 && ctx.Err() == nil; i++ {
				status, body, err := webtest.Get(s.Addr, "/500b.txt")
				mu.Lock()
				if err == nil && status == 200 && bytes.Equal(body, conformance.File("500b.txt")) {
					ok++
				} else {
					failed++
					if firstErr == nil {
						firstErr = fmt.Errorf("status %d, %d bytes, %v", status, len(body), err)
					}
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	victim := before[0]
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	after := waitReplaced(t, s.Pid(), victim, n)
	time.Sleep(300 * time.Millisecond) // keep loading the new pool
	cancel()
	wg.Wait()
	if ok == 0 || failed > 3 {
		t.Errorf("got %d good and %d failed requests (first failure: %v), want at most one failure per client", ok, failed, firstErr)
	}
	if slices.Contains(after, victim) {
		t.Errorf("killed worker %d still listed among %v", victim, after)
	}
	assertNoZombies(t, s.Pid())
	if status, _, err := webtest.Get(s.Addr, "/500b.txt"); err != nil || status != 200 {
		t.Fatalf("after the respawn: got %d, %v, want 200", status, err)
	}
	t.Logf("%d good, %d failed requests; workers %v -> %v", ok, failed, before, after)
	if err := s.Stop(10 * time.Second); err != nil {
		t.Fatalf("master exit: %v, want status 0", err)
	}
	if snap := readStats(t, statsFile); snap.Prefork.Restarts != 1 || snap.Prefork.Workers != n {
		t.Errorf("got stats %+v, want 1 restart of %d workers", snap.Prefork, n)
	}
}

// TestGracefulShutdown checks SIGTERM: a worker closes the keep-alive
// connection it holds idle at once, the master reaps every worker and
// exits 0, and the stats file reports the memory of the whole tree.
func TestGracefulShutdown(t *testing.T) {
	const n = 3
	root := conformance.Docroot(t)
	statsFile := filepath.Join(t.TempDir(), "stats.json")
	s := webtest.Start(t, "--arch", "prefork", "--root", root, "--workers", fmt.Sprint(n),
		"--stats-file", statsFile, "--shutdown-timeout", "10s")
	workers := waitWorkers(t, s.Pid(), n)
	conn := dial(t, s.Addr)
	if status := get(t, conn); status != 200 {
		t.Fatalf("before SIGTERM: got %d, want 200", status)
	}
	if err := s.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Idle between requests, the connection is closed at once, as nginx
	// closes it, well before the shutdown timeout.
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("idle keep-alive connection after SIGTERM: got %d bytes, %v; want EOF", n, err)
	}
	if err := s.Wait(10 * time.Second); err != nil {
		t.Fatalf("master exit: %v, want status 0", err)
	}
	for _, pid := range workers {
		if _, err := proctree.Stat(pid); err == nil {
			t.Errorf("worker %d still exists after the master exited", pid)
		}
	}
	snap := readStats(t, statsFile)
	if snap.Tree < snap.Self+int64(n)<<20 {
		t.Errorf("got peak_rss_tree_bytes %d, peak_rss_bytes %d, want the tree to hold %d workers more", snap.Tree, snap.Self, n)
	}
}

// TestWorkersDieWithMaster kills the master with SIGKILL: every worker
// must follow (PR_SET_PDEATHSIG), leaving no orphan serving the port.
func TestWorkersDieWithMaster(t *testing.T) {
	root := conformance.Docroot(t)
	s := webtest.Start(t, "--arch", "prefork", "--root", root, "--workers", "3")
	workers := waitWorkers(t, s.Pid(), 3)
	if err := s.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	s.Wait(10 * time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range workers {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("worker %d still alive 10s after its master was killed", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	p, err := proctree.Stat(pid)
	return err == nil && p.State != 'Z'
}
