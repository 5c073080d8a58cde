package harness_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"flashbench/harness"
	"flashbench/harness/topology"
)

// processesFrom returns the PIDs of live processes whose executable lies
// under dir: what a run with binaries in dir left behind.
func processesFrom(t *testing.T, dir string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
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

// worldReadableTempDir returns a temporary directory other users (the
// real servers' www-data workers) can traverse.
func worldReadableTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// waitProcess waits until a live process runs dir's program name with an
// argument containing arg, and returns its PID (0 after a minute).
func waitProcess(dir, name, arg string) int {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
			if err != nil || exe != filepath.Join(dir, name) {
				continue
			}
			cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if strings.Contains(string(cmdline), arg) {
				return pid
			}
		}
	}
	return 0
}

// mustParse parses an experiment's text, or fails the test.
func mustParse(t *testing.T, text string) *harness.Experiment {
	t.Helper()
	e, err := harness.ParseExperiment("test.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// executeExperiment runs e with o, on the local topology unless o names
// another, with the test's binaries, a temporary results directory and
// file set cache; a run that fails fails the test.
func executeExperiment(t *testing.T, e *harness.Experiment, o harness.Options) (*harness.Outcome, *bytes.Buffer) {
	t.Helper()
	if o.Topology == nil {
		topo, err := topology.NewLocal()
		if err != nil {
			t.Skip(err)
		}
		o.Topology = topo
	}
	var log bytes.Buffer
	o.Experiment, o.BinDir, o.OutDir, o.FileSetDir, o.Log = e, binDir, t.TempDir(), worldReadableTempDir(t), &log
	out, err := harness.Execute(context.Background(), o)
	if err != nil {
		t.Fatalf("Execute: %v\n%s", err, log.String())
	}
	return out, &log
}
