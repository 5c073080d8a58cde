package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"flashbench/harness"
	"flashbench/internal/cliutil"
	"flashbench/results"
)

// binDir holds webserver, loadgen, fileset and slowdisk, built once for
// the tests.
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
		"flashbench/servers/cmd/...", "flashbench/loadgen/cmd/loadgen", "flashbench/fileset/cmd/fileset",
		"flashbench/servers/bench/slowdisk")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build binaries:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	// The CGI programs go to bin/cgi-bin, as make build puts them.
	cmd = exec.Command("go", "build", "-o", filepath.Join(dir, "cgi-bin")+"/", "flashbench/cgi-apps/cmd/...")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build CGI programs:", err)
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
	names := []string{"connections", "dataset-sweep", "hotos97", "hotos97-cgi", "iolite-cgi", "iolite-crossover", "iolite-static", "iolite-static-set",
		"optimizations", "servers-close", "servers-disk", "servers-keepalive", "single-file", "specweb99"}
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
		{"no experiment", []string{"run"}, "harness run: want an experiment"},
		{"unknown", []string{"run", "nosuch"}, `experiment "nosuch": not found`},
		// Every experiment is looked up before the first one runs.
		{"second unknown", []string{"run", "hotos97", "nosuch"}, `experiment "nosuch": not found`},
		{"bad file", []string{"run", "nosuch.toml"}, "no such file"},
		{"topology", []string{"run", "hotos97", "--topology", "nosuch"}, `topology "nosuch"`},
		{"ssh without hosts", []string{"run", "hotos97", "--topology", "ssh", "--server-host", "a"}, "needs --server-host and --client-hosts"},
		{"bad rate", []string{"run", "hotos97", "--topology", "netns", "--rate", "fast"}, "netns topology"},
		// An experiment that does not exist: the flags are checked first,
		// and a check that let a value through could run nothing.
		{"zero trials", []string{"run", "nosuch", "--trials", "0"}, "harness run: --trials 0: must be positive"},
		{"negative trials", []string{"run", "nosuch", "--trials", "-2"}, "harness run: --trials -2: must be positive"},
		{"zero duration", []string{"run", "nosuch", "--duration", "0s"}, "harness run: --duration 0s: must be positive"},
		{"negative duration", []string{"run", "nosuch", "-d", "-1s"}, "harness run: --duration -1s: must be positive"},
		{"zero warm-up", []string{"run", "nosuch", "--warmup", "0"}, "harness run: --warmup 0s: must be positive"},
		{"negative warm-up", []string{"run", "nosuch", "--warmup", "-5ms"}, "harness run: --warmup -5ms: must be positive"},
		// The range is the experiment's (1..100); only architectures that do
		// not exist, so that a check that let it through would run nothing.
		{"too many trials", []string{"run", "../../testdata/quick.toml", "--trials", "101", "--archs", "nosucharch",
			"--bin", binDir, "--out", t.TempDir(), "--filesets", t.TempDir(), "--no-report"}, "trials: 101, want 1..100"},
		{"negative syscalls", []string{"run", "../../testdata/quick.toml", "--syscalls", "-1", "--archs", "nosucharch",
			"--bin", binDir, "--out", t.TempDir(), "--filesets", t.TempDir(), "--no-report"}, "run: syscalls: -1 requests, want 0..1000000 (0: no count)"},
		{"base not a commit", []string{"run", "../../testdata/quick.toml", "--base", "no-such-revision", "--archs", "nosucharch",
			"--bin", binDir, "--out", t.TempDir(), "--filesets", t.TempDir(), "--no-report"}, `harness: --base: "no-such-revision" is not a commit of`},
		{"value not swept", []string{"run", "../../testdata/quick.toml", "--values", "7", "--archs", "nosucharch",
			"--bin", binDir, "--out", t.TempDir(), "--filesets", t.TempDir(), "--no-report"}, `run: values: "7" is not a file_size_bytes of quick`},
		{"soak: zero duration", []string{"soak", "--duration", "0s", "--archs", "nosucharch"}, "harness soak: --duration 0s: must be positive"},
		{"soak: negative interval", []string{"soak", "--interval", "-1s", "--archs", "nosucharch"}, "harness soak: --interval -1s: must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(append([]string{"harness"}, tt.args...), &out, &errb)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("harness %v: got error %v, want one line containing %q", tt.args, err, tt.want)
			}
		})
	}
}

// TestBadUsage checks that a bad flag is one line and exit status 2 in
// every subcommand, as at the root, not the command's whole help.
func TestBadUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"root", []string{"--bogus"}, "harness: bad usage: flag provided but not defined: -bogus (see harness --help)"},
		{"list", []string{"list", "--bogus"}, "harness: bad usage: flag provided but not defined: -bogus (see harness list --help)"},
		{"run", []string{"run", "hotos97", "--bogus"}, "harness: bad usage: flag provided but not defined: -bogus (see harness run --help)"},
		{"run, bad value", []string{"run", "hotos97", "--trials", "x"}, `harness: bad usage: invalid value "x" for flag -trials: parse error (see harness run --help)`},
		{"report", []string{"report", "--bogus", "dir"}, "harness: bad usage: flag provided but not defined: -bogus (see harness report --help)"},
		{"compare", []string{"compare", "--bogus", "a", "b"}, "harness: bad usage: flag provided but not defined: -bogus (see harness compare --help)"},
		{"soak", []string{"soak", "--bogus"}, "harness: bad usage: flag provided but not defined: -bogus (see harness soak --help)"},
		{"soak, bad value", []string{"soak", "--duration", "long"}, `harness: bad usage: invalid value "long" for flag -duration: parse error (see harness soak --help)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(append([]string{"harness"}, tt.args...), &out, &errb)
			if got := cliutil.ExitCode(err); got != cliutil.UsageExit || err.Error() != tt.want {
				t.Errorf("harness %q: got %v (status %d), want %q (status %d)", tt.args, err, got, tt.want, cliutil.UsageExit)
			}
			if out.Len() > 0 || errb.Len() > 0 {
				t.Errorf("harness %q: got stdout %q, stderr %q; want nothing but the error", tt.args, out.String(), errb.String())
			}
		})
	}
}

// TestInterrupt sends SIGINT to a harness at several moments of a run: it
// must exit with status 130, leave no process, namespace, cgroup or
// slowdisk mount behind, keep the finished points and mark the run
// interrupted.
func TestInterrupt(t *testing.T) {
	root := os.Geteuid() == 0
	tests := []struct {
		name       string
		experiment string
		moment     func(t *testing.T, out, sets string) func(pid int) bool
		needRoot   bool
	}{
		{"file set generation", "bigset", func(t *testing.T, _, sets string) func(int) bool {
			return func(int) bool {
				dirs, _ := filepath.Glob(filepath.Join(sets, "*"))
				_, err := os.Stat(filepath.Join(sets, "fixed-seed1-2000x16384", "manifest.json"))
				return len(dirs) > 0 && errors.Is(err, os.ErrNotExist)
			}
		}, false},
		{"warm-up", "quick", func(*testing.T, string, string) func(int) bool { return clientOf("warmup.json") }, false},
		{"trial", "slow", func(*testing.T, string, string) func(int) bool { return clientOf("sped-trial=1.json") }, false},
		{"after a point", "slow", func(t *testing.T, out, _ string) func(int) bool {
			return func(int) bool { return pointsIn(filepath.Join(out, "slow")) >= 1 }
		}, false},
		{"trial under a memory cgroup, on a slowdisk device", "memory", func(t *testing.T, _, _ string) func(int) bool {
			client := clientOf("trial=1.json")
			return func(pid int) bool {
				ours := slices.ContainsFunc(cgroupDirs(), func(d string) bool {
					return strings.HasPrefix(filepath.Base(d), fmt.Sprintf("flashbench-%d-", pid))
				})
				return ours && len(deviceMounts(pid)) > 0 && client(pid)
			}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needRoot && !root {
				t.Skip("needs root for a memory cgroup")
			}
			out, sets := t.TempDir(), t.TempDir()
			got := interruptRun(t, []string{"run", "../../testdata/" + tt.experiment + ".toml", "--bin", binDir, "--out", out,
				"--filesets", sets, "--no-report"}, tt.moment(t, out, sets))
			checkInterruptedRun(t, filepath.Join(out, tt.experiment), got)
		})
	}
}

// checkInterruptedRun checks the run directory an interrupted run left
// under expDir: run.json marked interrupted, every ok point's document
// readable, and the mark in the summary.
func checkInterruptedRun(t *testing.T, expDir string, got *interrupted) {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(expDir, "*"))
	if len(dirs) != 1 {
		t.Fatalf("got run directories %v, want one", dirs)
	}
	ix, err := harness.ReadIndex(dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	if !ix.Interrupted || ix.FinishedAt.IsZero() {
		t.Errorf("run.json: got interrupted %v, finished at %v; want true and a time", ix.Interrupted, ix.FinishedAt)
	}
	for _, p := range ix.Points {
		if p.Status == harness.StatusOK {
			if _, err := results.Read(filepath.Join(dirs[0], p.Result)); err != nil {
				t.Errorf("point %s: %v", p.ID, err)
			}
		}
	}
	if !strings.Contains(got.stdout, "(interrupted)") || !strings.Contains(got.stderr, "harness: interrupted") {
		t.Errorf("got stdout\n%s\nstderr\n%s\nwant the interrupted mark in both", got.stdout, got.stderr)
	}
}

// pointsIn returns the number of points of the one run under expDir.
func pointsIn(expDir string) int {
	dirs, _ := filepath.Glob(filepath.Join(expDir, "*"))
	if len(dirs) != 1 {
		return 0
	}
	ix, err := harness.ReadIndex(dirs[0])
	if err != nil {
		return 0
	}
	return len(ix.Points)
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
