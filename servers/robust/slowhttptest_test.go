package robust_test

import (
	"bytes"
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// slowPeerArchs are the architectures slowhttptest attacks: the
// event-driven ones and the thread pool. Process-per-connection servers
// have no defence but their timeouts, which slowloris checks already.
var slowPeerArchs = []string{"sped", "amped", "flashlite", "uring", "threaded"}

// slowHTTPTestSeconds is how long each slowhttptest run lasts.
const slowHTTPTestSeconds = 4

// slowHTTPTest returns a case running slowhttptest (Debian package
// slowhttptest) in mode ("-H" slow headers, "-X" slow read) with 200
// connections against big.bin, while well-behaved clients keep fetching:
// they must all be answered and the server must survive.
func slowHTTPTest(mode string) func(*testing.T, *env) {
	return func(t *testing.T, e *env) {
		bin, err := exec.LookPath("slowhttptest")
		if err != nil {
			t.Skip("slowhttptest not installed (apt-get install slowhttptest)")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		args := []string{mode, "-c", "200", "-i", "1", "-r", "100", "-l", strconv.Itoa(slowHTTPTestSeconds),
			"-p", "5", "-u", "http://" + e.addr() + "/big.bin"}
		if mode == "-X" {
			args = append(args, "-n", "1", "-z", "32", "-w", "64", "-y", "256")
		}
		cmd := exec.CommandContext(ctx, bin, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		probe := startProber(e.addr(), 2)
		if err := cmd.Start(); err != nil {
			t.Fatalf("start slowhttptest: %v", err)
		}
		werr := cmd.Wait()
		probe.finish(t, "during slowhttptest "+mode)
		t.Logf("slowhttptest %s: exit %v; last lines:\n%s", mode, werr, tail(out.String(), 4))
		select {
		case <-e.srv.Done():
			t.Fatalf("server exited under slowhttptest %s; stderr: %s", mode, e.srv.Stderr())
		default:
		}
		mustServe(t, e.addr(), "after slowhttptest "+mode)
	}
}

// tail returns the last n non-empty lines of s.
func tail(s string, n int) string {
	var lines []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
