package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/harness/report/reporttest"
	"flashbench/internal/cliutil"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestIndexCommand(t *testing.T) {
	run := writeSyntheticRun(t, 7, 1)
	root := filepath.Dir(filepath.Dir(run))
	stdout, _, err := runHarness("index", "--out", root)
	if err != nil {
		t.Fatalf("harness index --out %s: %v", root, err)
	}
	md, html := filepath.Join(root, "index.md"), filepath.Join(root, "index.html")
	if want := md + "\n" + html + "\n"; stdout != want {
		t.Errorf("harness index: got stdout %q, want %q", stdout, want)
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatalf("harness index: %v", err)
	}
	if want := "| hotos97 | – | – | 12 of 12 | – | [run](hotos97/20250314T150926Z/) |"; !strings.Contains(string(b), want) {
		t.Errorf("harness index: index.md is\n%s\nwant the run's row %q", b, want)
	}

	help, _, err := runHarness("index", "--help")
	if err != nil {
		t.Fatalf("harness index --help: %v", err)
	}
	reporttest.Golden(t, filepath.Join("testdata", "index-help.txt"), help, *update)
}

// TestReportWritesIndex checks that harness report rewrites the index of
// the results root of the run it reports on, and says where it went.
func TestReportWritesIndex(t *testing.T) {
	run := writeSyntheticRun(t, 8, 1)
	root := filepath.Dir(filepath.Dir(run))
	stdout, _, err := runHarness("report", run)
	if err != nil {
		t.Fatalf("harness report %s: %v", run, err)
	}
	md, html := filepath.Join(root, "index.md"), filepath.Join(root, "index.html")
	if want := "index: " + md + ", " + html + "\n"; !strings.HasSuffix(stdout, want) {
		t.Errorf("harness report: got stdout %q, want it to end %q", stdout, want)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatalf("harness report: %v", err)
	}
	if want := `<a href="hotos97/20250314T150926Z/report.html">report</a>`; !strings.Contains(string(b), want) {
		t.Errorf("harness report: index.html has no link %s to the report it wrote", want)
	}
}

// TestRunWritesIndex runs a quick experiment and checks that the run
// rewrites the index of its results root (--out), says where it went, and
// lists the run there with its commit, tree, points and report.
func TestRunWritesIndex(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run([]string{"harness", "run", "../../testdata/quick.toml", "--archs", "sped", "--quick", "--bin", binDir,
		"--out", out, "--filesets", worldReadable(t)}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("harness run --quick: %v\n%s", err, stderr.String())
	}
	md, html := filepath.Join(out, "index.md"), filepath.Join(out, "index.html")
	if want := "\nindex: " + md + ", " + html + "\n"; !strings.Contains(stdout.String(), want) {
		t.Errorf("harness run: got stdout\n%s\nwant it to say %q", stdout.String(), want)
	}
	dirs, _ := filepath.Glob(filepath.Join(out, "quick", "2*"))
	if len(dirs) != 1 {
		t.Fatalf("%s: got runs %v, want one", out, dirs)
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatalf("harness run: %v", err)
	}
	want := "| quick | unknown | dirty | 2 of 2 | – | [report](quick/" + filepath.Base(dirs[0]) + "/report.md) |"
	if !strings.Contains(string(b), want) {
		t.Errorf("harness run: index.md is\n%s\nwant the run's row ending %q", b, want)
	}
}

// TestIndexErrors checks that every failure is one line and exit status 1.
func TestIndexErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"argument", []string{"index", t.TempDir()}, "want no argument"},
		{"missing root", []string{"index", "--out", filepath.Join(t.TempDir(), "nope")}, "no such file or directory"},
		{"root is a file", []string{"index", "--out", file}, "not a directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runHarness(tt.args...)
			if err == nil {
				t.Fatalf("harness %v: got no error, want one naming %q", tt.args, tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "harness index: ") {
				t.Errorf("harness %v: got error %q, want one line starting \"harness index: \" naming %q", tt.args, msg, tt.want)
			}
			if code := cliutil.ExitCode(err); code != 1 {
				t.Errorf("harness %v: got exit status %d, want 1", tt.args, code)
			}
		})
	}
}
