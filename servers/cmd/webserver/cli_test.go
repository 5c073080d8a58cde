package main

import (
	"bytes"
	"context"
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flashbench/servers/internal/webtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestHelp compares --help with its golden file.
func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run([]string{"webserver", "--help"}, &stdout, &stderr); err != nil {
		t.Fatalf("run --help: %v", err)
	}
	golden := filepath.Join("testdata", "help.stdout")
	if *update {
		if err := os.WriteFile(golden, stdout.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := stdout.String(); got != string(want) {
		t.Errorf("--help:\ngot:\n%s\nwant:\n%s", got, want)
	}
	for _, name := range archNames() {
		if !strings.Contains(stdout.String(), name) {
			t.Errorf("--help does not name architecture %q", name)
		}
	}
}

// TestBadInput checks that bad input is one clear error line.
func TestBadInput(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	root := t.TempDir()
	file := filepath.Join(root, "f")
	os.WriteFile(file, []byte("x"), 0o644)
	// The timeouts' rows listen on a port in use: a check that let the
	// value through ends with that error, not with a server running on.
	inUse := busy.Addr().String()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no arch", []string{"--root", root}, "--arch is required"},
		{"unknown arch", []string{"--arch", "apache", "--root", root}, `unknown architecture "apache"`},
		{"no root", []string{"--arch", "sped"}, "--root is required"},
		{"missing root", []string{"--arch", "sped", "--root", filepath.Join(root, "nope")}, "no such file"},
		{"root is a file", []string{"--arch", "sped", "--root", file}, "not a directory"},
		{"bad address", []string{"--arch", "sped", "--root", root, "--listen", "nowhere"}, "missing port"},
		{"host name", []string{"--arch", "sped", "--root", root, "--listen", "example.org:80"}, "must be an IP address"},
		{"port in use", []string{"--arch", "sped", "--root", root, "--listen", busy.Addr().String()}, "address already in use"},
		{"unknown flag", []string{"--arch", "sped", "--bogus"}, "bad usage"},
		{"cpu profile nowhere", []string{"--arch", "sped", "--root", root, "--cpu-profile", filepath.Join(root, "nope", "cpu.pprof")}, "cpu profile: open"},
		{"negative max-conns", []string{"--arch", "sped", "--root", root, "--max-conns", "-1"}, "must not be negative"},
		{"negative send-zc-min", []string{"--arch", "uring", "--root", root, "--send-zc-min", "-1"}, "--send-zc-min -1: must not be negative"},
		{"negative helper-timeout", []string{"--arch", "amped", "--root", root, "--helper-timeout", "-1s"}, "--helper-timeout -1s: must not be negative"},
		{"zero header-timeout", []string{"--arch", "sped", "--root", root, "--header-timeout", "0s", "--listen", inUse}, "--header-timeout 0s: must be positive"},
		{"negative header-timeout", []string{"--arch", "threaded", "--root", root, "--header-timeout", "-1s", "--listen", inUse}, "--header-timeout -1s: must be positive"},
		{"zero idle-timeout", []string{"--arch", "amped", "--root", root, "--idle-timeout", "0", "--listen", inUse}, "--idle-timeout 0s: must be positive"},
		{"negative idle-timeout", []string{"--arch", "prefork", "--root", root, "--idle-timeout", "-5ms", "--listen", inUse}, "--idle-timeout -5ms: must be positive"},
		{"zero write-timeout", []string{"--arch", "nethttp", "--root", root, "--write-timeout", "0s", "--listen", inUse}, "--write-timeout 0s: must be positive"},
		{"negative write-timeout", []string{"--arch", "null", "--write-timeout", "-1ms", "--listen", inUse}, "--write-timeout -1ms: must be positive"},
		{"bad helper-timeout", []string{"--arch", "amped", "--root", root, "--helper-timeout", "soon"}, "bad usage"},
		{"negative body-size", []string{"--arch", "null", "--body-size", "-1", "--listen", inUse}, "--body-size -1: want 0 to"},
		{"body-size of sped", []string{"--arch", "sped", "--root", root, "--body-size", "500"}, "not a flag of sped (only of null)"},
		{"stray argument", []string{"--arch", "sped", "--root", root, "extra"}, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(append([]string{"webserver"}, tt.args...), &stdout, &stderr)
			if err == nil {
				t.Fatalf("run %q: got nil error, want one containing %q", tt.args, tt.want)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "webserver: ") || !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("run %q: got error %q, want one line starting \"webserver: \" containing %q", tt.args, msg, tt.want)
			}
			if stdout.Len() > 0 {
				t.Errorf("run %q: wrote to stdout: %q", tt.args, stdout.String())
			}
		})
	}
}

// TestBadInputExit checks the real binary: exit status 1 and exactly one
// line on stderr.
func TestBadInputExit(t *testing.T) {
	cmd := exec.Command(webtest.Binary, "--arch", "nosuch", "--root", t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("got %v, want exit status 1", err)
	}
	got := stderr.String()
	if strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, "webserver: unknown architecture") {
		t.Errorf("stderr: got %q, want one line starting with %q", got, "webserver: unknown architecture")
	}
}

// TestRefusedFlags checks that an architecture refuses, with one line and
// the usage exit status 2, a flag it cannot honour: another
// architecture's own flag, or a common flag beyond what it does.
func TestRefusedFlags(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		arch string
		flag []string
		want string
	}{
		{"sped", []string{"--helpers", "2"}, "--helpers: not a flag of sped (only of amped, flashlite)"},
		{"threaded", []string{"--helper-timeout", "1s"}, "--helper-timeout: not a flag of threaded (only of amped, flashlite)"},
		{"amped", []string{"--workers", "2"}, "--workers: not a flag of amped (only of prefork)"},
		{"prefork", []string{"--threads", "2"}, "--threads: not a flag of prefork (only of threaded)"},
		{"sped", []string{"--cgi-classic"}, "--cgi-classic: sped cannot honour it"},
		{"threaded", []string{"--cgi-shared-memory"}, "--cgi-shared-memory: threaded cannot honour it"},
		{"nethttp", []string{"--no-mmap-cache"}, "--no-mmap-cache: nethttp cannot honour it"},
		{"null", []string{"--cgi-dir", root}, "--cgi-dir: null cannot honour it"},
		{"uring", []string{"--cgi-classic"}, "--cgi-classic: uring cannot honour it"},
		{"uring", []string{"--helpers", "2"}, "--helpers: not a flag of uring (only of amped, flashlite)"},
	}
	for _, tt := range tests {
		t.Run(tt.arch+" "+tt.flag[0], func(t *testing.T) {
			args := append([]string{"--arch", tt.arch, "--root", root, "--listen", "127.0.0.1:0"}, tt.flag...)
			// A flag let through starts a server: the time bound ends it.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, webtest.Binary, args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 2 {
				t.Fatalf("webserver %q: got %v (stderr %q), want exit status 2", args, err, stderr.String())
			}
			if got := stderr.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, tt.want) {
				t.Errorf("webserver %q: stderr %q, want one line containing %q", args, got, tt.want)
			}
		})
	}
}
