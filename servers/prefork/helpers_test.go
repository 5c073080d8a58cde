package prefork_test

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"slices"
	"testing"
	"time"

	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/proctree"
)

// workerPIDs lists the live children of the master.
func workerPIDs(t *testing.T, master int) []int {
	t.Helper()
	kids, err := proctree.Descendants(master)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, k := range kids {
		if k.PPID == master && k.State != 'Z' {
			pids = append(pids, k.PID)
		}
	}
	slices.Sort(pids)
	return pids
}

// waitWorkers waits until the master has n live workers.
func waitWorkers(t *testing.T, master, n int) []int {
	t.Helper()
	var pids []int
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if pids = workerPIDs(t, master); len(pids) == n {
			return pids
		}
	}
	t.Fatalf("got workers %v of master %d, want %d", pids, master, n)
	return nil
}

// waitReplaced waits until victim is gone and the pool is back to n.
func waitReplaced(t *testing.T, master, victim, n int) []int {
	t.Helper()
	var pids []int
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if pids = workerPIDs(t, master); len(pids) == n && !slices.Contains(pids, victim) {
			return pids
		}
	}
	t.Fatalf("got workers %v of master %d, want %d without the killed %d", pids, master, n, victim)
	return nil
}

// assertNoZombies fails if the master has an unreaped child. A child that
// just died may be a zombie for a moment, so it retries for a while.
func assertNoZombies(t *testing.T, master int) {
	t.Helper()
	var z []proctree.Proc
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var err error
		if z, err = proctree.Zombies(master); err != nil {
			t.Fatal(err)
		}
		if len(z) == 0 {
			return
		}
	}
	t.Fatalf("got zombies %+v of master %d, want none", z, master)
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, conformance.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// get sends one keep-alive GET of 500b.txt on conn and checks the body.
func get(t *testing.T, conn net.Conn) int {
	t.Helper()
	conn.SetDeadline(time.Now().Add(conformance.Timeout))
	if _, err := conn.Write([]byte("GET /500b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := conformance.ReadResponse(bufio.NewReader(conn), false)
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != string(conformance.File("500b.txt")) {
		t.Fatalf("got %d %q, want 500b.txt", resp.Status, resp.Body)
	}
	return resp.Status
}

// treeStats are the memory fields of a stats file.
type treeStats struct {
	Self    int64 `json:"peak_rss_bytes"`
	Tree    int64 `json:"peak_rss_tree_bytes"`
	Prefork struct {
		Workers  int    `json:"workers"`
		Restarts uint64 `json:"worker_restarts"`
	} `json:"prefork"`
}

func readStats(t *testing.T, path string) treeStats {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s treeStats
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("stats file: %v\n%s", err, data)
	}
	return s
}
