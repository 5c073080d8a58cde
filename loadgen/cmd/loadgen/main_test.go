package main

import (
	"bytes"
	"errors"
	"flag"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"flashbench/internal/cliutil"
	"flashbench/internal/fulldisk"
	"flashbench/results"
	"flashbench/results/schematest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// envCLI, set to 1, makes the test binary the loadgen binary.
const envCLI = "LOADGEN_HELPER"

// TestMain doubles as the loadgen binary when envCLI is set, so that the
// tests can signal a real process and check main's exit status and
// stderr: it runs main on the arguments after "--".
func TestMain(m *testing.M) {
	if os.Getenv(envCLI) == "1" {
		args := os.Args
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		os.Args = append([]string{"loadgen"}, args...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// cliCommand is the loadgen binary with args: this test binary, run as
// TestMain says (and running no test should it miss envCLI).
func cliCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), envCLI+"=1")
	return cmd
}

// server is a test server that answers every request with a few bytes
// and counts the connections and requests it got.
type server struct {
	url             string
	conns, requests atomic.Int64
}

// helperCmd is cliCommand(args...) with its output going to the buffers.
func helperCmd(args ...string) (cmd *exec.Cmd, stdout, stderr *bytes.Buffer) {
	cmd = cliCommand(args...)
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd, stdout, stderr
}

// startHelper starts helperCmd(args...), killed if it is still running
// when the test ends.
func startHelper(t *testing.T, args ...string) (cmd *exec.Cmd, stdout, stderr *bytes.Buffer) {
	t.Helper()
	cmd, stdout, stderr = helperCmd(args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, stdout, stderr
}

func serve(t *testing.T) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{url: "http://" + ln.Addr().String() + "/"}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			s.requests.Add(1)
			w.Write([]byte("hi"))
		}),
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.conns.Add(1)
			}
		},
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
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
	url := serve(t).url
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

// TestBadUsage checks that a bad flag is one line and exit status 2, in
// merge as at the root, not the command's whole help.
func TestBadUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"--bogus", "http://127.0.0.1:1/"}, "loadgen: bad usage: flag provided but not defined: -bogus (see loadgen --help)"},
		{"bad value", []string{"--rate", "fast", "http://127.0.0.1:1/"}, `loadgen: bad usage: invalid value "fast" for flag -rate: parse error (see loadgen --help)`},
		{"merge", []string{"merge", "--bogus", "a.json"}, "loadgen: bad usage: flag provided but not defined: -bogus (see loadgen merge --help)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(append([]string{"loadgen"}, tt.args...), &out, &errOut)
			if got := cliutil.ExitCode(err); got != cliutil.UsageExit || err.Error() != tt.want {
				t.Errorf("run(%q): got %v (status %d), want %q (status %d)", tt.args, err, got, tt.want, cliutil.UsageExit)
			}
			if out.Len() > 0 || errOut.Len() > 0 {
				t.Errorf("run(%q): got stdout %q, stderr %q; want nothing but the error", tt.args, out.String(), errOut.String())
			}
		})
	}
}

// TestRefusedBeforeRun checks that what would refuse a run, or lose its
// result once made, is one line before the run starts: nothing on
// stdout, not one connection to the server, no output file.
func TestRefusedBeforeRun(t *testing.T) {
	srv := serve(t)
	url := srv.url
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "run.json")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"infinite rate", []string{"--rate", "inf"}, "loadgen: rate must be a finite number of requests/s, got +Inf"},
		{"minus infinite rate", []string{"--rate", "-Inf"}, "loadgen: rate must be a finite number of requests/s, got -Inf"},
		{"NaN rate", []string{"--rate", "NaN"}, "loadgen: rate must be a finite number of requests/s, got NaN"},
		{"output in a missing directory", []string{"-o", missing},
			"loadgen: --output " + missing + ": cannot create a file in " + filepath.Dir(missing) + ": no such file or directory"},
		{"output is a directory", []string{"-o", dir}, "loadgen: --output " + dir + ": is a directory"},
		{"hdr log in a missing directory", []string{"--hdr-log", missing},
			"loadgen: --hdr-log " + missing + ": cannot create a file in " + filepath.Dir(missing) + ": no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.conns.Load()
			var stdout, stderr bytes.Buffer
			args := append([]string{"loadgen", "-c", "2", "-d", "1s", "--warmup", "0s", url}, tt.args...)
			err := run(args, &stdout, &stderr)
			if err == nil || err.Error() != tt.want || cliutil.ExitCode(err) != 1 {
				t.Errorf("run(%q): got %v (status %d), want %q (status 1)", tt.args, err, cliutil.ExitCode(err), tt.want)
			}
			if stdout.Len() > 0 || stderr.Len() > 0 {
				t.Errorf("run(%q): got stdout %q, stderr %q; want nothing before the error", tt.args, stdout.String(), stderr.String())
			}
			if n := srv.conns.Load() - before; n != 0 {
				t.Errorf("run(%q): the server got %d connections, want none", tt.args, n)
			}
		})
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("refused runs left %d files in %s, want none", len(ents), dir)
	}
}

func TestRunWritesOutputs(t *testing.T) {
	url := serve(t).url
	dir := t.TempDir()
	out := filepath.Join(dir, "run.json")
	hlog := filepath.Join(dir, "run.hlog")
	var stdout, stderr bytes.Buffer
	err := run([]string{"loadgen", url, "-c", "4", "-d", "500ms", "--warmup", "100ms", "--requests-per-conn", "0",
		"-o", out, "--hdr-log", hlog}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v (stderr %q)", err, stderr.String())
	}
	for _, want := range []string{"Requests/sec:", "Latency", "p99", "Errors: none", "Host: load average (1 min) "} {
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
	// A test binary carries no version-control information; the server's
	// use is not measured by a load generator on its own.
	p := res.Provenance
	if b := p.Binaries["loadgen"]; p.GitCommit != results.RevisionUnknown || !p.Dirty || len(p.Binaries) != 1 || b.GoVersion == "" {
		t.Errorf("provenance: got git_commit %q, dirty %t, binaries %+v; want unknown, dirty, loadgen's alone", p.GitCommit, p.Dirty, p.Binaries)
	}
	if res.HostLoad == nil || res.Client == nil || res.Server.CPUUserS != nil || res.Server.PeakRSSBytes != nil {
		t.Errorf("got host_load %v, client %v, server cpu %v, rss %v; want host_load and client measured, the server's omitted",
			res.HostLoad, res.Client, res.Server.CPUUserS, res.Server.PeakRSSBytes)
	}
	if b, err := os.ReadFile(out); err != nil || schematest.Validate(schematest.Result, b) != nil {
		t.Errorf("result against its schema: %v, %v", err, schematest.Validate(schematest.Result, b))
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

// failingServer answers every request the way mode says a broken server
// does: "status line" sends a status line and closes, "half body" a
// header promising 1000 bytes and 500 of them, "no response" closes
// without a byte, "reset" resets the connection, "error status" answers
// 503. It returns the URL and the server, for a test that closes it.
func failingServer(t *testing.T, mode string) (string, *http.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := func(w http.ResponseWriter, _ *http.Request) {
		switch mode {
		case "ok":
			w.Write([]byte("hi"))
			return
		case "error status":
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		switch mode {
		case "status line":
			buf.WriteString("HTTP/1.1 200 OK\r\n")
		case "half body":
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + strings.Repeat("x", 500))
		case "reset":
			conn.(*net.TCPConn).SetLinger(0)
		}
		buf.Flush()
	}
	srv := &http.Server{Handler: http.HandlerFunc(h)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/", srv
}

// TestServerFailures runs the CLI against servers that die, refuse or
// answer partially: each run ends with a valid result document that
// counts the errors by class, names the dominant one and says what
// happened, in the document and in one line on stderr. A run in which no
// response completed measured nothing: it fails, its note the error line.
func TestServerFailures(t *testing.T) {
	tests := []struct {
		mode      string
		class     results.ErrorClass
		responses bool   // some responses complete
		exitErr   string // "" for a run that ends normally
		note      string
	}{
		{"dies mid-run", results.ConnectRefused, true, "", "stopped during the run); the last response completed"},
		{"refuses at start", results.ConnectRefused, false, "server unreachable", "no request sent"},
		{"status line", results.ShortBody, false, "no request measured", "closed connections in the middle of responses"},
		{"half body", results.ShortBody, false, "no request measured", "closed connections in the middle of responses"},
		{"no response", results.ReadError, false, "no request measured", "without a response"},
		{"reset", results.Reset, false, "no request measured", "the server reset connections"},
		{"error status", results.BadStatus, true, "", "error statuses"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			url := ""
			switch tt.mode {
			case "dies mid-run":
				var srv *http.Server
				url, srv = failingServer(t, "ok")
				time.AfterFunc(200*time.Millisecond, func() { srv.Close() })
			case "refuses at start":
				ln, _ := net.Listen("tcp", "127.0.0.1:0")
				url = "http://" + ln.Addr().String() + "/"
				ln.Close()
			default:
				url, _ = failingServer(t, tt.mode)
			}
			out := filepath.Join(t.TempDir(), "run.json")
			var stdout, stderr bytes.Buffer
			err := run([]string{"loadgen", "-c", "4", "-d", "500ms", "--warmup", "0s", "--timeout", "1s", "-o", out, url}, &stdout, &stderr)
			switch {
			case tt.exitErr == "" && err != nil:
				t.Fatalf("run: got %v, want a normal end", err)
			case tt.exitErr != "" && (err == nil || !strings.Contains(err.Error(), tt.exitErr) || strings.Contains(err.Error(), "\n")):
				t.Fatalf("run: got %v, want one line mentioning %q", err, tt.exitErr)
			}
			res, rerr := results.Read(out)
			if rerr != nil {
				t.Fatalf("result: %v", rerr)
			}
			n, _ := res.Errors.Count(tt.class)
			if n == 0 || res.DominantError != tt.class || (res.RequestsTotal > 0) != tt.responses {
				t.Errorf("result: got %d %s errors of %+v, dominant %q, %d requests; want > 0, %s, responses %v",
					n, tt.class, res.Errors, res.DominantError, res.RequestsTotal, tt.class, tt.responses)
			}
			if !strings.Contains(res.Note, tt.note) || !strings.Contains(res.Note, string(tt.class)) {
				t.Errorf("note: got %q, want it to name %s and say %q", res.Note, tt.class, tt.note)
			}
			if tt.exitErr == "" && !strings.Contains(stderr.String(), "loadgen: "+res.Note+"\n") {
				t.Errorf("stderr: got %q, want the note on a line of its own", stderr.String())
			}
			if !tt.responses && tt.exitErr != "server unreachable" && err.Error() != "loadgen: "+res.Note {
				t.Errorf("run: got %q, want the note as the error line, %q", err, "loadgen: "+res.Note)
			}
		})
	}
}

// TestInterrupt sends SIGINT to the CLI mid-run: it must stop and leave a
// valid result marked interrupted.
func TestInterrupt(t *testing.T) {
	url := serve(t).url
	out := filepath.Join(t.TempDir(), "run.json")
	cmd, _, stderr := startHelper(t, "-c", "4", "-d", "30s", "--warmup", "0s", "-o", out, url)
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

// mountFull mounts a 64 KiB tmpfs on a new directory (unmounted when the
// test ends), lets setup put files in it, then fills what is left.
func mountFull(t *testing.T, setup func(dir string)) string {
	t.Helper()
	dir := fulldisk.Mount(t, "64k")
	setup(dir)
	fulldisk.Fill(t, dir)
	return dir
}

// snapshot returns every file of dir by name with its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}

// TestFullDisk writes the outputs to a full file system: the binary must
// exit non-zero with one clear line, leave no temporary or partial file,
// and leave the earlier outputs byte for byte.
func TestFullDisk(t *testing.T) {
	url := serve(t).url
	tests := []struct {
		name string
		args []string
	}{
		{"result over an earlier one", []string{"-o", "run.json"}},
		{"new result", []string{"-o", "new.json"}},
		{"hdr log over an earlier one", []string{"--hdr-log", "run.hlog"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := mountFull(t, func(dir string) {
				var stdout, stderr bytes.Buffer
				args := []string{"loadgen", "-c", "2", "-d", "100ms", "--warmup", "0s", url,
					"-o", filepath.Join(dir, "run.json"), "--hdr-log", filepath.Join(dir, "run.hlog")}
				if err := run(args, &stdout, &stderr); err != nil {
					t.Fatalf("earlier run: %v", err)
				}
			})
			before := snapshot(t, dir)
			args := []string{"-c", "2", "-d", "100ms", "--warmup", "0s", url, tt.args[0], filepath.Join(dir, tt.args[1])}
			cmd, _, stderr := helperCmd(args...)
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() == 0 {
				t.Errorf("exit: got %v, want a non-zero status", err)
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "no space left on device") || !strings.HasPrefix(lines[0], "loadgen: ") {
				t.Errorf("stderr: got %q, want one line starting loadgen: and saying no space left on device", stderr.String())
			}
			after := snapshot(t, dir)
			if len(after) != len(before) {
				t.Errorf("files: got %d (%v), want the %d there were before", len(after), keys(after), len(before))
			}
			for name, content := range before {
				if after[name] != content {
					t.Errorf("%s: changed by the failed run, want it byte for byte as before", name)
				}
			}
		})
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
