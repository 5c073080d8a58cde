package baseline_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"flashbench/servers/httpcore/conformance"
	"flashbench/servers/internal/webtest"
)

func TestMain(m *testing.M) { webtest.Main(m) }

var archs = []string{"nethttp", "fasthttp"}

// TestConformanceReport runs every conformance case against each baseline
// and reports how many it passes, with the first problem of each failed
// case. The baselines owe flashbench nothing, so a failed case is logged,
// not failed; but each must serve a plain file correctly.
func TestConformanceReport(t *testing.T) {
	for _, arch := range archs {
		t.Run(arch, func(t *testing.T) {
			t.Parallel()
			root := conformance.Docroot(t)
			s := webtest.Start(t, "--arch", arch, "--root", root)
			// Cases run concurrently: a baseline that neither answers
			// nor closes costs a case its whole timeout.
			problems := make([][]string, len(conformance.Cases))
			var wg sync.WaitGroup
			for i, c := range conformance.Cases {
				wg.Go(func() { problems[i] = runCase(s.Addr, root, c) })
			}
			wg.Wait()
			var passed, failed []string
			for i, c := range conformance.Cases {
				if p := problems[i]; len(p) > 0 {
					failed = append(failed, fmt.Sprintf("%s: %s", c.Name, p[0]))
				} else {
					passed = append(passed, c.Name)
				}
			}
			t.Logf("%s: %d of %d conformance cases pass, %d fail", arch, len(passed), len(conformance.Cases), len(failed))
			for _, f := range failed {
				t.Logf("  fail %s", f)
			}
			if !contains(passed, "file-500b") || !contains(passed, "file-50k") {
				t.Errorf("%s: got the plain file cases failing, want file-500b and file-50k served", arch)
			}
		})
	}
}

// TestGracefulShutdown checks that SIGTERM ends each baseline with status
// 0 while a keep-alive connection is idle.
func TestGracefulShutdown(t *testing.T) {
	for _, arch := range archs {
		t.Run(arch, func(t *testing.T) {
			root := conformance.Docroot(t)
			s := webtest.Start(t, "--arch", arch, "--root", root, "--shutdown-timeout", "1s")
			if p := runCase(s.Addr, root, conformance.Case{Name: "open", Request: "GET /500b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
				Status: 200, BodyFile: "500b.txt"}); len(p) > 0 {
				t.Fatalf("GET /500b.txt: %v", p)
			}
			if err := s.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := s.Wait(10 * time.Second); err != nil {
				t.Fatalf("exit after SIGTERM: %v, want status 0", err)
			}
		})
	}
}

// runCase is conformance.RunCase returning the problems instead of
// failing a test.
func runCase(addr, root string, c conformance.Case) []string {
	conn, err := net.DialTimeout("tcp", addr, conformance.Timeout)
	if err != nil {
		return []string{err.Error()}
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(conformance.Timeout))
	conn.Write([]byte(c.Request))
	br := bufio.NewReader(conn)
	var problems []string
	for i, w := range c.Wants() {
		resp, err := conformance.ReadResponse(br, w.Head)
		if err != nil {
			return append(problems, fmt.Sprintf("response %d: %v", i+1, err))
		}
		problems = append(problems, conformance.Check(root, w, resp)...)
	}
	return append(problems, checkConn(conn, br, root, c)...)
}

// checkConn checks what the server did with the connection.
func checkConn(conn net.Conn, br *bufio.Reader, root string, c conformance.Case) []string {
	switch c.Conn {
	case conformance.ConnClose:
		b, err := br.ReadByte()
		switch {
		case err == nil:
			return []string{fmt.Sprintf("got byte %q after the last response, want close", b)}
		case errors.Is(err, os.ErrDeadlineExceeded):
			return []string{"connection kept open, want close"}
		case err != io.EOF && !errors.Is(err, syscall.ECONNRESET):
			return []string{fmt.Sprintf("read after the last response: %v, want EOF", err)}
		}
	case conformance.ConnOpen:
		next := c.Next
		if next == "" {
			next = "GET /500b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
		}
		if _, err := conn.Write([]byte(next)); err != nil {
			return []string{fmt.Sprintf("follow-up write: %v, want the connection open", err)}
		}
		resp, err := conformance.ReadResponse(br, false)
		if err != nil {
			return []string{fmt.Sprintf("follow-up response: %v, want the connection open", err)}
		}
		if resp.Status != 200 || !bytes.Equal(resp.Body, conformance.File("500b.txt")) {
			return []string{fmt.Sprintf("follow-up: got %d, want 200 with 500b.txt", resp.Status)}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
