package robust_test

import (
	"bufio"
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"flashbench/servers/httpcore/conformance"
)

// hostileCases are clients that misbehave: slow, resetting, half-closing,
// or sending garbage.
func hostileCases() []robustCase {
	return []robustCase{
		{name: "slowloris", run: testSlowloris},
		{name: "slow-reader", run: testSlowReader},
		{name: "reset-mid-transfer", run: testResetMidTransfer},
		{name: "half-close", run: testHalfClose},
		{name: "garbage-after-request", run: testGarbageAfterRequest},
		{name: "binary-garbage", run: testBinaryGarbage},
		{name: "slowhttptest-slowloris", archs: slowPeerArchs, run: slowHTTPTest("-H")},
		{name: "slowhttptest-slow-read", archs: slowPeerArchs, run: slowHTTPTest("-X")},
		// The warm-up holds one keep-alive connection per worker.
		{name: "slowloris-800", archs: massSlowlorisArchs, args: []string{"--idle-timeout", "20s"}, run: testMassSlowloris},
	}
}

// slowConns is how many slow clients a case opens: a prefork server has
// only its workers, so it gets fewer than it has.
func slowConns(arch string) int {
	if arch == "prefork" {
		return preforkWorkers / 2
	}
	return 20
}

// testSlowloris trickles request headers one field a few times a second
// on many connections: the others keep being served, and each slow
// connection gets 408 and is closed once the header timeout passes.
func testSlowloris(t *testing.T, e *env) {
	n := slowConns(e.arch)
	probe := startProber(e.addr(), 2)
	var wg sync.WaitGroup
	results := make([]string, n)
	for i := range n {
		c := dial(t, e.addr())
		wg.Add(1)
		go func() {
			defer wg.Done()
			stop := make(chan struct{})
			defer close(stop)
			go func() { // the trickle: a header field every 200 ms
				c.Write([]byte("GET /500b.txt HTTP/1.1\r\nHost: localhost\r\n"))
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					case <-time.After(200 * time.Millisecond):
					}
					if _, err := c.Write([]byte("X-Slow-" + string(rune('a'+k%26)) + ": 1\r\n")); err != nil {
						return
					}
				}
			}()
			c.SetReadDeadline(time.Now().Add(ioTimeout))
			br := bufio.NewReader(c)
			resp, err := conformance.ReadResponse(br, false)
			switch {
			case err != nil:
				results[i] = "no response: " + err.Error()
			case resp.Status != 408:
				results[i] = "status " + resp.Reason
			default:
				if _, err := br.ReadByte(); !isClosed(err) {
					results[i] = "408 but the connection stayed open"
				}
			}
		}()
	}
	wg.Wait()
	probe.finish(t, "during slowloris")
	for i, r := range results {
		if r != "" {
			t.Errorf("slow connection %d: got %s, want 408 then close", i, r)
		}
	}
	mustServe(t, e.addr(), "after slowloris")
}

// testSlowReader asks for big.bin on connections that never read: the
// server must give up on them after the write timeout (a short body, then
// close) while serving the others meanwhile.
func testSlowReader(t *testing.T, e *env) {
	n := slowConns(e.arch) / 4
	conns := make([]*net.TCPConn, n)
	for i := range n {
		c := dial(t, e.addr())
		setRcvBuf(t, c, 16<<10)
		if _, err := c.Write([]byte(get1("/big.bin"))); err != nil {
			t.Fatalf("write request: %v", err)
		}
		conns[i] = c
	}
	probe := startProber(e.addr(), 2)
	// A connection still in the listen backlog is held by no process
	// either: wait until the server has accepted every one (some may be
	// closed again by then), else a busy machine passes the check below
	// before it starts.
	accepted := waitFor(ioTimeout, func() bool {
		for _, c := range conns {
			if !serverAccepted(t, c) {
				return false
			}
		}
		return true
	})
	if !accepted {
		probe.finish(t, "during slow readers")
		t.Fatalf("slow readers: the server did not accept all %d within %v", n, ioTimeout)
	}
	closed := waitFor(ioTimeout, func() bool {
		for _, c := range conns {
			if serverHolds(t, c) {
				return false
			}
		}
		return true
	})
	probe.finish(t, "during slow readers")
	if !closed {
		t.Errorf("slow readers: the server still holds some after %v, want them closed after the write timeout (%s)", ioTimeout, writeTimeout)
	}
	mustServe(t, e.addr(), "after slow readers")
}

// testResetMidTransfer aborts big.bin downloads with a reset (SO_LINGER 0)
// after part of the body: the server survives and serves on.
func testResetMidTransfer(t *testing.T, e *env) {
	for range 10 {
		c := dial(t, e.addr())
		if _, err := c.Write([]byte(get1("/big.bin"))); err != nil {
			t.Fatalf("write request: %v", err)
		}
		c.SetReadDeadline(time.Now().Add(ioTimeout))
		if _, err := io.ReadFull(c, make([]byte, 64<<10+rand.IntN(64<<10))); err != nil {
			t.Fatalf("read part of big.bin: %v", err)
		}
		c.SetLinger(0)
		c.Close()
	}
	mustServe(t, e.addr(), "after resets")
	if err := fetch(e.addr(), "/big.bin", bigFile); err != nil {
		t.Errorf("after resets: %v", err)
	}
}

// testHalfClose sends a request and shuts down its writing side: the
// response still arrives whole, then the server closes.
func testHalfClose(t *testing.T, e *env) {
	for _, req := range []string{get1("/50k.bin"), "GET /50k.bin HTTP/1.0\r\n\r\n"} {
		c := dial(t, e.addr())
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatalf("write request: %v", err)
		}
		if err := c.CloseWrite(); err != nil {
			t.Fatalf("shutdown(SHUT_WR): %v", err)
		}
		c.SetReadDeadline(time.Now().Add(ioTimeout))
		br := bufio.NewReader(c)
		resp, err := conformance.ReadResponse(br, false)
		if err != nil {
			t.Fatalf("request %q then half-close: %v, want the response", req, err)
		}
		if resp.Status != 200 || !bytes.Equal(resp.Body, conformance.File("50k.bin")) {
			t.Errorf("request %q then half-close: got %d with %d bytes, want 200 with 50k.bin", req, resp.Status, len(resp.Body))
		}
		if _, err := br.ReadByte(); !isClosed(err) {
			t.Errorf("request %q then half-close: after the response got %v, want the connection closed", req, err)
		}
	}
}

// testGarbageAfterRequest sends a valid request followed by a line that
// is no request: the valid one is answered, the garbage gets 400, the
// connection closes.
func testGarbageAfterRequest(t *testing.T, e *env) {
	conformance.RunCase(t, e.addr(), e.root, conformance.Case{
		Name:    "garbage-after-request",
		Request: get1("/500b.txt") + "\x16\x03\x01 not http at all\r\n\r\n",
		Status:  200, BodyFile: "500b.txt",
		More: []conformance.Want{{Status: 400}},
		Conn: conformance.ConnClose,
	})
}

// testBinaryGarbage sends a valid request followed by 64 KiB of random
// bytes: the valid one is answered whole, then the server answers an
// error or closes, never a second 200, and serves other clients.
func testBinaryGarbage(t *testing.T, e *env) {
	c := dial(t, e.addr())
	junk := make([]byte, 64<<10)
	for i := range junk {
		junk[i] = byte(rand.IntN(256))
	}
	go c.Write(append([]byte(get1("/500b.txt")), junk...))
	c.SetReadDeadline(time.Now().Add(ioTimeout))
	br := bufio.NewReader(c)
	resp, err := conformance.ReadResponse(br, false)
	if err != nil || resp.Status != 200 || !bytes.Equal(resp.Body, conformance.File("500b.txt")) {
		t.Fatalf("valid request before garbage: got %v, %v; want 200 with 500b.txt", statusOf(resp), err)
	}
	rest, err := readToEnd(c, br, ioTimeout)
	if err != nil {
		t.Errorf("after garbage: %v, want the connection closed", err)
	}
	if len(rest) > 0 && !bytes.HasPrefix(rest, []byte("HTTP/1.1 4")) {
		t.Errorf("after garbage: got %q, want a 4xx answer or nothing", clip(rest))
	}
	mustServe(t, e.addr(), "after binary garbage")
}

// statusOf returns resp's status, 0 for nil.
func statusOf(resp *conformance.Response) int {
	if resp == nil {
		return 0
	}
	return resp.Status
}

// clip shortens b for failure messages.
func clip(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}
