package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"flashbench/results"
)

// TestTraceWarmup replays a trace with the default warm-up, which used to
// take the whole trace and leave the measurement nothing: the warm-up now
// makes a pass of its own over the trace's start, and the measurement
// replays all of the trace, each request once, and says so.
func TestTraceWarmup(t *testing.T) {
	srv := serve(t)
	url, served := srv.url, &srv.requests
	const n = 5000
	var trace strings.Builder
	for i := range n {
		fmt.Fprintf(&trace, "/f%d\n", i%10)
	}
	dir := t.TempDir()
	path, out := filepath.Join(dir, "trace.txt"), filepath.Join(dir, "run.json")
	if err := os.WriteFile(path, []byte(trace.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	// -d is a bound only: the run ends with the trace.
	if err := run([]string{"loadgen", "-c", "8", "-d", "60s", "--trace", path, "-o", out, url}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstdout:\n%s", err, stdout.String())
	}
	res, err := results.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	warm, _ := res.Config.Extra["warmup_requests"].(float64)
	length, _ := res.Config.Extra["trace_requests"].(float64)
	if res.RequestsTotal != n || res.ErrorsTotal != 0 || length != n || warm <= 0 || res.Note != "" {
		t.Errorf("result: got %d requests, %d errors, trace_requests %v, warmup_requests %v, note %q; want %d, 0, %d, > 0, none",
			res.RequestsTotal, res.ErrorsTotal, length, warm, res.Note, n, n)
	}
	if got := served.Load(); got != n+int64(warm) {
		t.Errorf("server: got %d requests, want the trace's %d and the warm-up's %v", got, n, warm)
	}
	want := fmt.Sprintf("Trace: %d of its %d requests sent in the measurement, from its start; "+
		"the warm-up made a pass of its own (%d requests from the start, not measured)\n", n, n, int64(warm))
	if !strings.Contains(stdout.String(), want) {
		t.Errorf("summary: got\n%s\nwant a line %q", stdout.String(), want)
	}
}

// TestNothingMeasured interrupts a run in its warm-up: it measured no
// request, so it fails (exit status 1, its note the one line on stderr)
// with its result document written all the same, marked by the note.
func TestNothingMeasured(t *testing.T) {
	srv := serve(t)
	url, served := srv.url, &srv.requests
	out := filepath.Join(t.TempDir(), "run.json")
	cmd, stdout, stderr := startHelper(t, "-c", "2", "-d", "5s", "--warmup", "30s", "-o", out, url)
	for deadline := time.Now().Add(10 * time.Second); served.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the warm-up sent no request in 10s")
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit: got %v, want status 1", err)
	}
	res, rerr := results.Read(out)
	if rerr != nil {
		t.Fatalf("result: %v (stderr %q)", rerr, stderr.String())
	}
	if res.RequestsTotal != 0 || !res.Interrupted || !strings.HasPrefix(res.Note, "no request measured: ") {
		t.Errorf("result: got %d requests, interrupted %v, note %q; want 0, true, one starting %q",
			res.RequestsTotal, res.Interrupted, res.Note, "no request measured: ")
	}
	if want := "loadgen: " + res.Note + "\n"; stderr.String() != want {
		t.Errorf("stderr: got %q, want the note alone, %q", stderr.String(), want)
	}
	if !strings.Contains(stdout.String(), "0 requests in 0s") {
		t.Errorf("stdout: got\n%s\nwant the summary all the same", stdout.String())
	}
}
