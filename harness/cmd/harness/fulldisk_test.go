package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flashbench/harness"
	"flashbench/internal/fulldisk"
	"flashbench/results"
)

// seedEarlierRun puts an earlier run of the slow experiment under out: its
// index and one point's result document.
func seedEarlierRun(t *testing.T, out string) {
	t.Helper()
	dir := filepath.Join(out, "slow", "20250101T000000Z")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../../../results/testdata/result_v1.json")
	if err != nil {
		t.Fatal(err)
	}
	ix, err := json.MarshalIndent(harness.Index{SchemaVersion: harness.IndexSchemaVersion, Experiment: "slow",
		StartedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), FinishedAt: time.Date(2025, 1, 1, 0, 1, 0, 0, time.UTC),
		Topology: "local", Points: []harness.PointEntry{{ID: "sped-trial=1", Arch: "sped", Trial: 1,
			Status: harness.StatusOK, Result: "sped-trial=1.json"}}}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"run.json": ix, "sped-trial=1.json": doc} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// files returns every file under dir (the filler aside) by relative path,
// with its content.
func files(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "filler" {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFullDisk runs the harness with its results directory on a small
// tmpfs that is full from the start, or fills up during the first trial:
// the run must stop with status 1 and one clear line, leave no temporary
// or partial file, keep the earlier run byte for byte, and leave the new
// run's index and documents readable.
func TestFullDisk(t *testing.T) {
	tests := []struct {
		name   string
		size   string
		during bool // fill during the first trial, not before the run
	}{
		{"full from the start", "64k", false},
		{"fills during a trial", "512k", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := fulldisk.Mount(t, tt.size)
			seedEarlierRun(t, out)
			if !tt.during {
				fulldisk.Fill(t, out)
			}
			before := files(t, out)
			cmd := exec.Command(os.Args[0], "run", "../../testdata/slow.toml", "--bin", binDir, "--out", out,
				"--filesets", t.TempDir(), "--no-report", "--trials", "2", "--duration", "300ms")
			cmd.Env = append(os.Environ(), "FLASHBENCH_HARNESS_MAIN=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if tt.during {
				trial := clientOf("sped-trial=1.json")
				for deadline := time.Now().Add(time.Minute); !trial(cmd.Process.Pid) && time.Now().Before(deadline); {
					time.Sleep(2 * time.Millisecond)
				}
				fulldisk.Fill(t, out)
			}
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Errorf("exit: got %v, want status 1", err)
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "run: ") || !strings.HasSuffix(last, "no space left on device") {
				t.Errorf("last line of stderr: got %q, want the run's error ending in no space left on device", last)
			}
			// Rounds interleave the architectures: null may come first;
			// nothing may come after the point that could not be written.
			if _, after, _ := strings.Cut(stderr.String(), "sped-trial=1: failed"); tt.during && strings.Contains(after, "\n[") {
				t.Errorf("stderr: got\n%s\nwant the run stopped at the first result it could not write", stderr.String())
			}
			checkFullDiskRun(t, out, before)
			if left := processesUnder(binDir); len(left) > 0 {
				t.Errorf("got processes %v left behind, want none", left)
			}
		})
	}
}

// checkFullDiskRun checks what a run stopped by a full disk left under
// out: the files of before unchanged, no temporary file, and every new
// document readable and indexed.
func checkFullDiskRun(t *testing.T, out string, before map[string]string) {
	t.Helper()
	after := files(t, out)
	for name, content := range before {
		if after[name] != content {
			t.Errorf("%s: changed by the failed run, want it byte for byte as before", name)
		}
	}
	for name := range after {
		if strings.Contains(filepath.Base(name), ".tmp-") {
			t.Errorf("temporary file %s left behind", name)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(out, "slow", "2*"))
	for _, dir := range dirs {
		if strings.HasSuffix(dir, "20250101T000000Z") {
			continue
		}
		ix, err := harness.ReadIndex(dir)
		if err != nil {
			t.Errorf("new run: %v", err)
			continue
		}
		for _, p := range ix.Points {
			if p.Result == "" {
				continue
			}
			if _, err := results.Read(filepath.Join(dir, p.Result)); err != nil {
				t.Errorf("point %s: %v", p.ID, err)
			}
		}
		docs, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, d := range docs {
			if filepath.Base(d) == "run.json" {
				continue
			}
			if _, err := results.Read(d); err != nil {
				t.Errorf("document %s: %v", d, err)
			}
		}
	}
}
