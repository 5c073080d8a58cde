package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"flashbench/results"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestHelperProcess is the CLI when the test binary re-executes itself.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("LOADGEN_HELPER") != "1" {
		return
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = append([]string{"loadgen"}, args[i+1:]...)
			break
		}
	}
	if err := run(args, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func serve(t *testing.T) (string, *http.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("hi")) })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/", srv
}

func TestHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"loadgen", "--help"}, &out, &errOut); err != nil {
		t.Fatalf("--help: %v", err)
	}
	golden := filepath.Join("testdata", "help.stdout")
	if *update {
		os.WriteFile(golden, out.Bytes(), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("--help: got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestBadInput(t *testing.T) {
	url, _ := serve(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String() + "/"
	ln.Close()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"zero connections", []string{"-c", "0", url}, "connections must be at least 1"},
		{"bad url", []string{"ftp://x/"}, "bad url"},
		{"host name", []string{"http://example.invalid/"}, "host must be an IP address"},
		{"unreachable", []string{"-d", "1s", dead}, "server unreachable"},
		{"missing manifest", []string{"--manifest", "/nonexistent/manifest.json", url}, "manifest"},
		{"no url", []string{"-c", "2"}, "want exactly one URL"},
		{"unknown flag", []string{"--bogus", url}, "bogus"},
		{"verify without manifest", []string{"--verify", url}, "verify needs a manifest"},
		{"negative duration", []string{"-d", "-1s", url}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(append([]string{"loadgen"}, tt.args...), &out, &errOut)
			if err == nil {
				t.Fatalf("run(%q): got nil error, want one mentioning %q", tt.args, tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("run(%q): got %q, want one line mentioning %q", tt.args, msg, tt.want)
			}
		})
	}
}

func TestRunWritesOutputs(t *testing.T) {
	url, _ := serve(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "run.json")
	hlog := filepath.Join(dir, "run.hlog")
	var stdout, stderr bytes.Buffer
	err := run([]string{"loadgen", url, "-c", "4", "-d", "500ms", "--warmup", "100ms", "--requests-per-conn", "0",
		"-o", out, "--hdr-log", hlog}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v (stderr %q)", err, stderr.String())
	}
	for _, want := range []string{"Requests/sec:", "Latency", "p99", "Errors: none"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout.String())
		}
	}
	res, err := results.Read(out)
	if err != nil {
		t.Fatalf("result: %v", err)
	}
	if res.RequestsTotal == 0 || res.Interrupted {
		t.Errorf("result: got %d requests, interrupted %v; want > 0, false", res.RequestsTotal, res.Interrupted)
	}
	merged := filepath.Join(dir, "merged.json")
	stdout.Reset()
	if err := run([]string{"loadgen", "merge", out, out, "-o", merged}, &stdout, &stderr); err != nil {
		t.Fatalf("merge: %v", err)
	}
	m, err := results.Read(merged)
	if err != nil || m.RequestsTotal != 2*res.RequestsTotal {
		t.Errorf("merged: got %v requests (err %v), want %d", m, err, 2*res.RequestsTotal)
	}
}

// TestServerDiesMidRun: the run finishes, errors are counted, the result is written.
func TestServerDiesMidRun(t *testing.T) {
	url, srv := serve(t)
	out := filepath.Join(t.TempDir(), "run.json")
	time.AfterFunc(300*time.Millisecond, func() { srv.Close() })
	var stdout, stderr bytes.Buffer
	if err := run([]string{"loadgen", "-c", "4", "-d", "800ms", "--warmup", "0s", "--timeout", "1s", "-o", out, url}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	res, err := results.Read(out)
	if err != nil {
		t.Fatalf("result: %v", err)
	}
	if res.RequestsTotal == 0 || res.ErrorsTotal == 0 {
		t.Errorf("got %d requests, %d errors; want both > 0", res.RequestsTotal, res.ErrorsTotal)
	}
}

// TestInterrupt sends SIGINT to the CLI mid-run: it must stop and leave a
// valid result marked interrupted.
func TestInterrupt(t *testing.T) {
	url, _ := serve(t)
	out := filepath.Join(t.TempDir(), "run.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "--", "-c", "4", "-d", "30s", "--warmup", "0s", "-o", out, url)
	cmd.Env = append(os.Environ(), "LOADGEN_HELPER=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	time.Sleep(700 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("loadgen after SIGINT: %v (stderr %q)", err, stderr.String())
	}
	res, err := results.Read(out)
	if err != nil {
		t.Fatalf("result: %v", err)
	}
	if !res.Interrupted || res.RequestsTotal == 0 {
		t.Errorf("got interrupted %v with %d requests; want true, > 0", res.Interrupted, res.RequestsTotal)
	}
}
