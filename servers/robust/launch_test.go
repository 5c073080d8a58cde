package robust_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"flashbench/servers/internal/webtest"
)

// launched is a webserver started behind a wrapper command (prlimit,
// unshare), which webtest.Start cannot do; the wrapper execs the server,
// so the pid is the server's.
type launched struct {
	pid    int
	addr   string
	done   chan struct{}
	mu     sync.Mutex
	stderr bytes.Buffer
}

// Write collects the server's stderr.
func (l *launched) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stderr.Write(p)
}

// launch runs wrapper... webserver args and waits for its ready line. The
// server gets SIGTERM (then SIGKILL) when the test ends.
func launch(t *testing.T, wrapper []string, args ...string) *launched {
	t.Helper()
	argv := append(append(append([]string{}, wrapper...), webtest.Binary), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	l := &launched{done: make(chan struct{})}
	cmd.Stderr = l
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", argv[:len(wrapper)+1], err)
	}
	l.pid = cmd.Process.Pid
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, addr, ok := strings.Cut(sc.Text(), " listening on "); ok {
				ready <- addr
			}
		}
		cmd.Wait()
		close(l.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-l.done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-l.done
		}
	})
	select {
	case l.addr = <-ready:
		return l
	case <-l.done:
		t.Fatalf("%v exited before it was ready; stderr: %s", argv[:len(wrapper)+1], l.errText())
	case <-time.After(30 * time.Second):
		t.Fatalf("%v printed no ready line within 30s", argv[:len(wrapper)+1])
	}
	return nil
}

// errText returns the stderr so far.
func (l *launched) errText() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stderr.String()
}
