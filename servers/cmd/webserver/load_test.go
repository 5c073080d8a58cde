package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"flashbench/servers/httpcore/conformance"
)

// TestManyConns opens 1,000 keep-alive connections; 100 of them ask for a
// big file and do not read it until all the others have been served
// several requests each. One event loop must serve everyone.
func TestManyConns(t *testing.T) {
	for _, arch := range loopArchs {
		t.Run(arch, func(t *testing.T) { testManyConns(t, arch) })
	}
}

func testManyConns(t *testing.T, arch string) {
	const conns, slow, perConn = 1000, 100, 3
	root, big := bigRoot(t, 4<<20)
	s := startServer(t, "--arch", arch, "--root", root)
	small := conformance.Pattern(500, 3)

	slowConns := make([]net.Conn, slow)
	for i := range slowConns {
		slowConns[i] = dialSmallRcvbuf(t, s.addr)
		fmt.Fprintf(slowConns[i], "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	fast := make([]net.Conn, conns-slow)
	for i := range fast {
		fast[i] = dial(t, s.addr)
	}
	errs := make(chan error, len(fast)+slow)
	var wg sync.WaitGroup
	for _, c := range fast {
		wg.Go(func() {
			r := bufio.NewReader(c)
			c.SetDeadline(time.Now().Add(6 * conformance.Timeout))
			for range perConn {
				fmt.Fprintf(c, "GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
				resp, err := readResponse(r, false)
				if err != nil {
					errs <- err
					return
				}
				if resp.status != 200 || !bytes.Equal(resp.body, small) {
					errs <- fmt.Errorf("got status %d and %d body bytes, want 200 and small.txt", resp.status, len(resp.body))
					return
				}
			}
		})
	}
	wg.Wait()
	for _, c := range slowConns {
		wg.Go(func() {
			r := bufio.NewReaderSize(c, 64<<10)
			c.SetDeadline(time.Now().Add(6 * conformance.Timeout))
			resp, err := readResponse(r, true)
			if err != nil {
				errs <- fmt.Errorf("slow reader: %w", err)
				return
			}
			body, err := readAll(r, len(big))
			if err != nil || resp.status != 200 || !bytes.Equal(body, big) {
				errs <- fmt.Errorf("slow reader: got status %d, error %v, body equal %v; want 200 and big.bin",
					resp.status, err, bytes.Equal(body, big))
			}
		})
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n < 5 {
			t.Error(err)
		}
		n++
	}
	if n > 0 {
		t.Errorf("%d of %d connections failed", n, conns)
	}
}

// TestTimeouts checks the header and idle timeouts, and that a slowloris
// client (one header byte at a time) does not stall another client.
func TestTimeouts(t *testing.T) {
	for _, arch := range loopArchs {
		t.Run(arch, func(t *testing.T) { testTimeouts(t, arch) })
	}
}

func testTimeouts(t *testing.T, arch string) {
	root, _ := bigRoot(t, 1<<10)
	s := startServer(t, "--arch", arch, "--root", root, "--header-timeout", "300ms", "--idle-timeout", "300ms")
	wait := 10 * conformance.Timeout

	t.Run("partial header gets 408", func(t *testing.T) {
		c := dial(t, s.addr)
		io.WriteString(c, "GET /small.txt HTTP/1.1\r\nHo")
		c.SetReadDeadline(time.Now().Add(wait))
		r := bufio.NewReader(c)
		resp, err := readResponse(r, false)
		if err != nil {
			t.Fatalf("got %v, want a 408 response", err)
		}
		if resp.status != 408 || resp.header["connection"] != "close" {
			t.Errorf("got status %d, Connection %q; want 408, close", resp.status, resp.header["connection"])
		}
		expectEOF(t, c, r, wait)
	})
	t.Run("idle keep-alive closes", func(t *testing.T) {
		c := dial(t, s.addr)
		r := bufio.NewReader(c)
		get(t, c, r, "/small.txt")
		c.SetReadDeadline(time.Now().Add(wait))
		if n, _ := io.Copy(io.Discard, r); n != 0 {
			t.Errorf("idle close: got %d bytes, want none", n)
		}
		expectEOF(t, c, r, wait)
	})
	t.Run("silent new connection closes", func(t *testing.T) {
		c := dial(t, s.addr)
		expectEOF(t, c, c, wait)
	})
	t.Run("slowloris does not stall others", func(t *testing.T) {
		loris := dial(t, s.addr)
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { // one byte every 50ms: the header never completes in time
			defer close(done)
			req := "GET /small.txt HTTP/1.1\r\nX-Slow: " + strings.Repeat("a", 1000)
			for i := 0; i < len(req); i++ {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				if _, err := io.WriteString(loris, req[i:i+1]); err != nil {
					return
				}
			}
		}()
		defer func() { close(stop); <-done }()
		for range 5 {
			c := dial(t, s.addr)
			get(t, c, bufio.NewReader(c), "/small.txt")
			c.Close()
		}
		loris.SetReadDeadline(time.Now().Add(wait))
		resp, err := readResponse(bufio.NewReader(loris), false)
		if err != nil || resp.status != 408 {
			t.Errorf("slowloris: got %v, %v; want a 408 once the header timeout passes", resp, err)
		}
	})
}
