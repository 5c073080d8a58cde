package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"flashbench/harness"
	"flashbench/results"
	"flashbench/results/schematest"
)

// needStrace skips a test on a machine without strace (.ci/run installs
// it).
func needStrace(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("strace"); err != nil {
		t.Skip("strace not installed")
	}
}

// TestRunSyscalls runs servers-close quickly with a system call count of
// 200 requests, one per connection, on sped and, where it is installed,
// nginx (master and worker): each contender's document must be archived,
// valid and plausible (an accept4 and a close per connection at least),
// the summary and the report must show the table, and nothing may be
// left running.
func TestRunSyscalls(t *testing.T) {
	needStrace(t)
	archs := "sped"
	if _, err := exec.LookPath("nginx"); err == nil {
		archs = "nginx,sped"
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run([]string{"harness", "run", "servers-close", "--quick", "--syscalls", "200", "--archs", archs,
		"--bin", binDir, "--out", out, "--filesets", worldReadable(t)}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("harness run: %v\nstderr:\n%s", err, stderr.String())
	}
	dir := runDir(t, filepath.Join(out, "servers-close"))
	for _, arch := range strings.Split(archs, ",") {
		d := readSyscalls(t, dir, arch)
		if d.Error != "" || d.RequestsRequested != 200 || d.Requests != 200 || d.Connections != 200 || d.RequestsPerConn != 1 {
			t.Errorf("%s: got error %q, %d of %d requests, %d connections, %d per connection; want none, 200 of 200, 200, 1",
				arch, d.Error, d.Requests, d.RequestsRequested, d.Connections, d.RequestsPerConn)
		}
		for _, name := range []string{"accept4", "close"} {
			if got := d.Calls[name].Calls; got < 200 {
				t.Errorf("%s: %s: got %d calls, want at least 200 (one per connection)", arch, name, got)
			}
		}
		wantProcs := map[string]int{"sped": 1, "nginx": 2}[arch]
		if d.ProcessesAttached < wantProcs || d.CallsPerConnection < 4 || d.CallsPerRequest != d.CallsPerConnection {
			t.Errorf("%s: got %d processes, %.2f calls per connection, %.2f per request; want %d or more, at least 4, the same",
				arch, d.ProcessesAttached, d.CallsPerConnection, d.CallsPerRequest, wantProcs)
		}
		if !strings.HasPrefix(d.Provenance.Tools["strace"], "strace -- version") {
			t.Errorf("%s: provenance.tools.strace: got %q, want strace's version", arch, d.Provenance.Tools["strace"])
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"system calls (strace -c -f over 200 requests per contender", "calls/conn", "accept4 1."} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("summary lacks %q:\n%s", s, stdout.String())
		}
	}
	if !strings.Contains(string(md), "### System calls") || !strings.Contains(string(md), "| sped | – |") {
		t.Errorf("report.md lacks the system call table with a sped row:\n%s", md)
	}
	if html, err := os.ReadFile(filepath.Join(dir, "report.html")); err != nil || !strings.Contains(string(html), "<h3>System calls</h3>") {
		t.Errorf("report.html: got error %v, or no system call table", err)
	}
	if left := processesUnder(binDir); len(left) > 0 {
		t.Errorf("got processes %v of %s left behind, want none", left, binDir)
	}
	if left := children(); len(left) > 0 {
		t.Errorf("got processes %v (%v) left behind, want none", left, comms(left))
	}
}

// TestRunSyscallsFails runs a pass whose strace exits at once (a program
// of that name that fails, first on PATH): the contender's document must
// say why, the measured point must be kept, and the run must succeed.
func TestRunSyscallsFails(t *testing.T) {
	fake := t.TempDir()
	script := "#!/bin/sh\necho 'strace: attach: ptrace(PTRACE_SEIZE): Operation not permitted' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(fake, "strace"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", fake+string(os.PathListSeparator)+os.Getenv("PATH"))
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run([]string{"harness", "run", "servers-close", "--quick", "--syscalls", "50", "--archs", "sped",
		"--bin", binDir, "--out", out, "--filesets", worldReadable(t), "--no-report"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("harness run: got %v, want success: a failed count loses nothing measured\nstderr:\n%s", err, stderr.String())
	}
	dir := runDir(t, filepath.Join(out, "servers-close"))
	d := readSyscalls(t, dir, "sped")
	want := "strace: exited before it attached: exit status 1: strace: attach: ptrace(PTRACE_SEIZE): Operation not permitted"
	if d.Error != want || d.TotalCalls != 0 || len(d.Calls) != 0 {
		t.Errorf("got error %q, %d calls; want %q and none", d.Error, d.TotalCalls, want)
	}
	ix, err := harness.ReadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ix.Points) != 1 || ix.Points[0].Status != harness.StatusOK {
		t.Errorf("got points %+v, want sped's trial, ok", ix.Points)
	}
	if !strings.Contains(stdout.String(), "failed: strace: exited before it attached") {
		t.Errorf("summary lacks the failed count:\n%s", stdout.String())
	}
	if left := processesUnder(binDir); len(left) > 0 {
		t.Errorf("got processes %v of %s left behind, want none", left, binDir)
	}
}

// TestInterruptSyscalls sends SIGINT while strace counts a server's
// system calls: strace, the server and the client must all be gone, and
// the measured point kept.
func TestInterruptSyscalls(t *testing.T) {
	needStrace(t)
	out := t.TempDir()
	got := interruptRun(t, []string{"run", "../../testdata/slow.toml", "--syscalls", "1000000", "--trials", "1",
		"--bin", binDir, "--out", out, "--filesets", t.TempDir(), "--no-report"}, func(pid int) bool {
		for p := range tree(pid) {
			if exe, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(p), "exe")); filepath.Base(exe) == "strace" {
				return clientOf("syscalls.json")(pid)
			}
		}
		return false
	})
	checkInterruptedRun(t, filepath.Join(out, "slow"), got)
}

// runDir returns the one run directory under expDir.
func runDir(t *testing.T, expDir string) string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(expDir, "2*"))
	if len(dirs) != 1 {
		t.Fatalf("got run directories %v, want one", dirs)
	}
	return dirs[0]
}

// readSyscalls reads and validates arch's system call count in dir.
func readSyscalls(t *testing.T, dir, arch string) *results.Syscalls {
	t.Helper()
	path := filepath.Join(dir, "syscalls", arch+".json")
	if err := schematest.ValidateFile(schematest.Syscalls, path); err != nil {
		t.Error(err)
	}
	d, err := results.ReadSyscalls(path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
