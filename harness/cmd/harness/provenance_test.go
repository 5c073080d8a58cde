package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/harness"
	"flashbench/internal/cliutil"
	"flashbench/results"
)

// fakeCheckout makes a directory the harness takes for the flashbench
// checkout (a go.mod of module flashbench) with an empty results/, and
// makes it the working directory: there the default output is the
// checkout's archive.
func fakeCheckout(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module flashbench\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "results"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	return dir
}

// TestRunArchivesDirtyBuild runs `harness run` from a build that is not
// clean (this test binary carries no version-control information) with
// the default output, the checkout's results/: refused with one line and
// status 1, nothing written; with --allow-dirty, archived and every
// document marked dirty; with --out elsewhere, written and marked too.
func TestRunArchivesDirtyBuild(t *testing.T) {
	quick, err := filepath.Abs("../../testdata/quick.toml")
	if err != nil {
		t.Fatal(err)
	}
	sets := worldReadable(t)
	checkout := fakeCheckout(t)
	archive := filepath.Join(checkout, "results")
	args := []string{"harness", "run", quick, "--bin", binDir, "--filesets", sets, "--no-report", "--quick"}

	var stdout, stderr bytes.Buffer
	err = run(args, &stdout, &stderr)
	if code := cliutil.ExitCode(err); code != 1 || err == nil {
		t.Fatalf("refused: got exit %d (%v), want 1", code, err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "run: refusing to archive into "+archive+" a run whose build is not clean (git_commit unknown: ") ||
		!strings.Contains(msg, "harness, loadgen") || !strings.Contains(msg, "--allow-dirty") || strings.Contains(msg, "\n") {
		t.Errorf("refused: got %q, want one line naming the archive, the binaries without version-control information and --allow-dirty", msg)
	}
	if entries, _ := os.ReadDir(archive); len(entries) != 0 {
		t.Errorf("refused: got %d entries in %s, want none", len(entries), archive)
	}

	stdout.Reset()
	if err := run(append(args, "--allow-dirty"), &stdout, &stderr); err != nil {
		t.Fatalf("--allow-dirty: %v\n%s", err, stderr.String())
	}
	checkDirtyRun(t, filepath.Join(archive, "quick"), stdout.String())

	stdout.Reset()
	elsewhere := t.TempDir()
	if err := run(append(args, "--out", elsewhere), &stdout, &stderr); err != nil {
		t.Fatalf("--out elsewhere: %v\n%s", err, stderr.String())
	}
	checkDirtyRun(t, filepath.Join(elsewhere, "quick"), stdout.String())
}

// checkDirtyRun checks the one run under expDir: its index and every
// result document marked dirty, and the summary saying so.
func checkDirtyRun(t *testing.T, expDir, summary string) {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(expDir, "2*"))
	if len(dirs) != 1 {
		t.Fatalf("%s: got runs %v, want one", expDir, dirs)
	}
	ix, err := harness.ReadIndex(dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	if p := ix.Provenance; p == nil || !p.Dirty || p.GitCommit != results.RevisionUnknown {
		t.Errorf("%s run.json: got provenance %+v, want dirty, git_commit unknown", dirs[0], p)
	}
	n := 0
	for _, p := range ix.Points {
		if p.Result == "" {
			continue
		}
		r, err := results.Read(filepath.Join(dirs[0], p.Result))
		if err != nil {
			t.Error(err)
			continue
		}
		n++
		if !r.Provenance.Dirty || r.Provenance.Clean() {
			t.Errorf("%s: got provenance dirty %t, want dirty", p.Result, r.Provenance.Dirty)
		}
	}
	if n == 0 {
		t.Errorf("%s: no result document", dirs[0])
	}
	if !strings.Contains(summary, "build: unknown, DIRTY: ") {
		t.Errorf("summary: got\n%s\nwant the build marked DIRTY", summary)
	}
}

// TestSoakRefusesDirtyArchive: `harness soak` with the default output,
// the checkout's results/soak/, from a build that is not clean.
func TestSoakRefusesDirtyArchive(t *testing.T) {
	buildCGI(t)
	checkout := fakeCheckout(t)
	archive := filepath.Join(checkout, "results")
	var stdout, stderr bytes.Buffer
	err := run([]string{"harness", "soak", "--bin", binDir, "--duration", "5s", "--filesets", t.TempDir()}, &stdout, &stderr)
	if code := cliutil.ExitCode(err); code != 1 || err == nil {
		t.Fatalf("got exit %d (%v), want 1", code, err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "soak: refusing to archive into "+archive+" ") ||
		!strings.Contains(msg, "--allow-dirty") || strings.Contains(msg, "\n") {
		t.Errorf("got %q, want one line naming the archive and --allow-dirty", msg)
	}
	if entries, _ := os.ReadDir(archive); len(entries) != 0 {
		t.Errorf("got %d entries in %s, want none", len(entries), archive)
	}
}
