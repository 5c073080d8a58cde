package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"flashbench/servers/httpcore/conformance"
)

// quietFor is how long a check that a connection is NOT served waits.
const quietFor = 500 * time.Millisecond

// TestMaxConns runs every registered architecture with --max-conns 2: two
// idle keep-alive connections are served; a third is not while they are
// open, though the two are served on; once one of them closes, the third
// is served; and the stats file counts 2 connections, then 3.
func TestMaxConns(t *testing.T) {
	root := conformance.Docroot(t)
	for _, name := range archNames() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			statsFile := filepath.Join(t.TempDir(), "stats.json")
			s := startServer(t, "--arch", name, "--root", root, "--max-conns", "2", "--stats-file", statsFile)
			first, second := dialServed(t, s.addr), dialServed(t, s.addr)
			third := dial(t, s.addr)
			if _, err := io.WriteString(third, "GET /500b.txt HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
				t.Fatalf("third connection: %v", err)
			}
			third.SetReadDeadline(time.Now().Add(quietFor))
			thirdR := bufio.NewReader(third)
			if resp, err := readResponse(thirdR, false); !isTimeout(err) {
				t.Fatalf("third connection with 2 open at --max-conns 2: got %s within %v, want no answer", describe(resp, err), quietFor)
			}
			second.get(t) // the server is alive: the open ones are served
			if n := connections(t, s, statsFile); n != 2 {
				t.Errorf("stats with the third connection waiting: got connections %d, want 2", n)
			}
			first.Close()
			third.SetReadDeadline(time.Now().Add(conformance.Timeout))
			if resp, err := readResponse(thirdR, false); err != nil || resp.status != 200 {
				t.Fatalf("third connection after the first closed: got %s, want 200", describe(resp, err))
			}
			if n := connections(t, s, statsFile); n != 3 {
				t.Errorf("stats after the third connection was served: got connections %d, want 3", n)
			}
		})
	}
}

// servedConn is a keep-alive connection the server answers.
type servedConn struct {
	net.Conn
	r *bufio.Reader
}

// dialServed connects to addr and checks that a request is answered.
func dialServed(t *testing.T, addr string) *servedConn {
	t.Helper()
	c := &servedConn{Conn: dial(t, addr)}
	c.r = bufio.NewReader(c)
	c.get(t)
	return c
}

// get checks that a keep-alive request on c is answered 200.
func (c *servedConn) get(t *testing.T) {
	t.Helper()
	if resp := get(t, c, c.r, "/500b.txt"); resp.status != 200 {
		t.Fatalf("keep-alive request: got status %d, want 200", resp.status)
	}
}

// describe says what readResponse returned: the status, or the error.
func describe(resp *response, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("status %d", resp.status)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// connections has s write its stats file at path (SIGUSR1) and returns
// the connections it counts.
func connections(t *testing.T, s *server, path string) uint64 {
	t.Helper()
	os.Remove(path)
	if err := s.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(conformance.Timeout); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var snap struct {
			Connections uint64 `json:"connections"`
		}
		if err := json.Unmarshal(data, &snap); err != nil {
			t.Fatalf("stats file: %v\n%s", err, data)
		}
		return snap.Connections
	}
	t.Fatalf("no stats file %v after SIGUSR1", conformance.Timeout)
	return 0
}
