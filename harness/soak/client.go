package soak

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"
)

// ioTimeout bounds each read or write of the faults' own clients.
const ioTimeout = 10 * time.Second

// dial connects to addr; a positive rcvbuf shrinks the receive buffer
// before the handshake, so that a slow reader really holds the server
// back.
func dial(ctx context.Context, addr string, rcvbuf int) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: 3 * time.Second}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// get is the request bytes of a GET of path.
func get(path string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: soak\r\nUser-Agent: flashbench-soak\r\n\r\n")
}

// readResponse reads one response to a GET with its whole body.
func readResponse(br *bufio.Reader) (int, []byte, error) {
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// fetch GETs path from addr on a connection of its own.
func fetch(ctx context.Context, addr, path string) (int, []byte, error) {
	c, err := dial(ctx, addr, 0)
	if err != nil {
		return 0, nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := c.Write(get(path)); err != nil {
		return 0, nil, err
	}
	return readResponse(bufio.NewReader(c))
}

// checkCGI fetches each CGI request once and compares the body.
func checkCGI(ctx context.Context, addr string, reqs []cgiRequest) error {
	for _, q := range reqs {
		status, body, err := fetch(ctx, addr, q.path)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", q.path, err)
		case status != http.StatusOK:
			return fmt.Errorf("%s: got status %d, want 200", q.path, status)
		case !bytes.Equal(body, q.body):
			return fmt.Errorf("%s: got %d body bytes differing from the expected %d", q.path, len(body), len(q.body))
		}
	}
	return nil
}

// isPrefix reports whether got is a prefix of want, and where it departs.
func isPrefix(got, want []byte) (bool, int) {
	n := min(len(got), len(want))
	for i := range n {
		if got[i] != want[i] {
			return false, i
		}
	}
	return len(got) <= len(want), n
}

// describe says what a departing stretch of body is made of.
func describe(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	switch {
	case zeros == len(b):
		return fmt.Sprintf("%d zero bytes (padding)", zeros)
	case zeros > 0:
		return fmt.Sprintf("%d zero bytes (padding), then other bytes", zeros)
	}
	return fmt.Sprintf("%d other bytes", len(b))
}
