package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/null"
)

// TestNull checks the null server: any request gets the canned 200,
// keep-alive and pipelining work, HTTP/1.0 and Connection: close close.
func TestNull(t *testing.T) {
	s := startServer(t, "--arch", "null")
	tests := []struct {
		name    string
		request string
		n       int  // responses expected
		close   bool // then EOF
	}{
		{"any path", "GET /no/such/file HTTP/1.1\r\nHost: x\r\n\r\n", 1, false},
		{"any method", "DELETE /x HTTP/1.1\r\n\r\n", 1, false},
		{"pipelined", "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nHEAD /c HTTP/1.1\r\n\r\n", 3, false},
		{"http/1.0 closes", "GET / HTTP/1.0\r\n\r\n", 1, true},
		{"connection close", "GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\n\r\n", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, s.addr)
			c.SetDeadline(time.Now().Add(conformance.Timeout))
			io.WriteString(c, tt.request)
			r := bufio.NewReader(c)
			for i := range tt.n {
				resp, err := readResponse(r, false)
				if err != nil {
					t.Fatalf("response %d: %v", i, err)
				}
				if resp.status != 200 || string(resp.body) != null.Body {
					t.Errorf("response %d: got %d %q, want 200 %q", i, resp.status, resp.body, null.Body)
				}
			}
			if tt.close {
				expectEOF(t, c, r, conformance.Timeout)
				return
			}
			// keep-alive: the connection answers again
			fmt.Fprintf(c, "GET /again HTTP/1.1\r\n\r\n")
			if resp, err := readResponse(r, false); err != nil || resp.status != 200 {
				t.Errorf("follow-up on a kept-alive connection: got %v, %v; want 200", resp, err)
			}
		})
	}
}

// TestNullBodySize checks --body-size: the canned body has exactly that
// many bytes, over a kept-alive connection and on one that closes.
func TestNullBodySize(t *testing.T) {
	const size = 51200
	s := startServer(t, "--arch", "null", "--body-size", fmt.Sprint(size))
	c := dial(t, s.addr)
	c.SetDeadline(time.Now().Add(conformance.Timeout))
	io.WriteString(c, "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nConnection: close\r\n\r\n")
	r := bufio.NewReader(c)
	for i := range 2 {
		resp, err := readResponse(r, false)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if resp.status != 200 || len(resp.body) != size || !strings.HasPrefix(string(resp.body), null.Body) {
			t.Errorf("response %d: got %d with a body of %d bytes, want 200 with %d bytes starting %q", i, resp.status, len(resp.body), size, null.Body)
		}
	}
	expectEOF(t, c, r, conformance.Timeout)
}
