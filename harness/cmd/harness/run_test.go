package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"flashbench/harness"
	"flashbench/results"
)

// binDir holds webserver, loadgen and fileset, built once for the tests.
var binDir string

func TestMain(m *testing.M) {
	if os.Getenv("FLASHBENCH_HARNESS_MAIN") == "1" {
		// Re-executed as the harness itself.
		err := run(append([]string{"harness"}, os.Args[1:]...), os.Stdout, os.Stderr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			var ec interface{ ExitCode() int }
			if errors.As(err, &ec) {
				os.Exit(ec.ExitCode())
			}
			os.Exit(1)
		}
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "harness-cmd-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cmd := exec.Command("go", "build", "-o", dir+"/",
		"flashbench/servers/cmd/webserver", "flashbench/loadgen/cmd/loadgen", "flashbench/fileset/cmd/fileset")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build binaries:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestList(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run([]string{"harness", "list"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	names := []string{"connections", "dataset-sweep", "hotos97", "hotos97-cgi", "iolite-cgi", "iolite-static",
		"optimizations", "single-file", "specweb99"}
	if len(lines) != len(names) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(names), out.String())
	}
	for i, n := range names {
		if !strings.HasPrefix(lines[i], n+" ") {
			t.Errorf("line %d: got %q, want it to start with %q", i, lines[i], n)
		}
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no experiment", []string{"run"}, "want one experiment, got 0"},
		{"unknown", []string{"run", "nosuch"}, `experiment "nosuch": not found`},
		{"bad file", []string{"run", "nosuch.toml"}, "no such file"},
		{"topology", []string{"run", "hotos97", "--topology", "nosuch"}, `topology "nosuch"`},
		{"ssh without hosts", []string{"run", "hotos97", "--topology", "ssh", "--server-host", "a"}, "needs --server-host and --client-hosts"},
		{"bad rate", []string{"run", "hotos97", "--topology", "netns", "--rate", "fast"}, "netns topology"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(append([]string{"harness"}, tt.args...), &out, &errb)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("harness %v: got error %v, want one containing %q", tt.args, err, tt.want)
			}
		})
	}
}

// TestInterrupt sends SIGINT to a harness in the middle of a run and
// checks that it kept the finished points, marked the run interrupted and
// left no process behind.
func TestInterrupt(t *testing.T) {
	out, sets := t.TempDir(), t.TempDir()
	cmd := exec.Command(os.Args[0], "run", "../../testdata/slow.toml", "--bin", binDir, "--out", out,
		"--filesets", sets, "--no-report")
	cmd.Env = append(os.Environ(), "FLASHBENCH_HARNESS_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	dir := waitForPoints(t, filepath.Join(out, "slow"), 1)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("exit: got %v, want status 130\n%s", err, stderr.String())
	}
	ix, err := harness.ReadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !ix.Interrupted || len(ix.Points) == 0 || len(ix.Points) >= 8 {
		t.Errorf("run.json: got interrupted=%v with %d points, want true with 1..7 of 8", ix.Interrupted, len(ix.Points))
	}
	for _, p := range ix.Points {
		if p.Status == harness.StatusOK {
			if _, err := results.Read(filepath.Join(dir, p.Result)); err != nil {
				t.Errorf("point %s: %v", p.ID, err)
			}
		}
	}
	if left := processesUnder(binDir); len(left) > 0 {
		t.Errorf("got processes %v left behind, want none", left)
	}
	if !strings.Contains(stdout.String(), "(interrupted)") {
		t.Errorf("stdout lacks the interrupted mark:\n%s", stdout.String())
	}
}

// waitForPoints waits until the one run directory under expDir has n points.
func waitForPoints(t *testing.T, expDir string, n int) string {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		dirs, _ := filepath.Glob(filepath.Join(expDir, "*"))
		if len(dirs) == 1 {
			if ix, err := harness.ReadIndex(dirs[0]); err == nil && len(ix.Points) >= n {
				return dirs[0]
			}
		}
	}
	t.Fatalf("no run with %d points under %s", n, expDir)
	return ""
}

// processesUnder returns the live processes whose executable is in dir.
func processesUnder(dir string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && strings.HasPrefix(exe, dir+"/") {
			pids = append(pids, pid)
		}
	}
	return pids
}
