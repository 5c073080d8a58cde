package forking_test

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"testing"
	"time"

	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/proctree"
)

// children lists the children of pid, zombies included.
func children(t *testing.T, pid int) []int {
	t.Helper()
	kids, err := proctree.Descendants(pid)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, k := range kids {
		if k.PPID == pid {
			pids = append(pids, k.PID)
		}
	}
	return pids
}

// waitNoChildren waits until pid has no child at all, neither alive nor
// zombie: the last child may still be exiting or being reaped.
func waitNoChildren(t *testing.T, pid int) {
	t.Helper()
	var kids []int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if kids = children(t, pid); len(kids) == 0 {
			return
		}
	}
	z, _ := proctree.Zombies(pid)
	t.Fatalf("got children %v (zombies %+v) of %d 10s after the last connection, want none", kids, z, pid)
}

// get sends one keep-alive GET of 500b.txt on conn and checks the body.
func get(t *testing.T, conn net.Conn, br *bufio.Reader) int {
	t.Helper()
	conn.SetDeadline(time.Now().Add(conformance.Timeout))
	if _, err := conn.Write([]byte("GET /500b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := conformance.ReadResponse(br, false)
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != string(conformance.File("500b.txt")) {
		t.Fatalf("got %d %q, want 500b.txt", resp.Status, resp.Body)
	}
	return resp.Status
}

// treeStats are the fields of a stats file the tests read.
type treeStats struct {
	Connections uint64 `json:"connections"`
	Self        int64  `json:"peak_rss_bytes"`
	Tree        int64  `json:"peak_rss_tree_bytes"`
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
