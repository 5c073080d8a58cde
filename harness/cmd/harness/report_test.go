package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/harness/report/reporttest"
	"flashbench/internal/cliutil"
)

// writeSyntheticRun writes a small synthetic hotos97 run and returns its directory.
func writeSyntheticRun(t *testing.T, seed uint64, scale float64) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hotos97", "20250314T150926Z")
	s := reporttest.Spec{Experiment: "hotos97", ExperimentFile: `figure = "HotOS 1997, Table 1"`,
		Archs: []string{"amped", "sped"}, Param: "file_size_bytes", Values: []float64{500, 51200},
		Trials: 3, Seed: seed, Scale: scale}
	if _, err := reporttest.Write(dir, s); err != nil {
		t.Fatalf("write synthetic run: %v", err)
	}
	return dir
}

// runHarness runs the command in-process as main would.
func runHarness(args ...string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	err = run(append([]string{"harness"}, args...), &out, &errb)
	return out.String(), errb.String(), err
}

func TestReportCommand(t *testing.T) {
	dir := writeSyntheticRun(t, 1, 1)
	stdout, _, err := runHarness("report", dir)
	if err != nil {
		t.Fatalf("harness report %s: %v", dir, err)
	}
	for _, f := range []string{"report.md", "report.html", "plots"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("harness report: %v", err)
		}
	}
	if !strings.Contains(stdout, filepath.Join(dir, "report.html")) {
		t.Errorf("harness report: got stdout %q, want the report's path", stdout)
	}
	out := t.TempDir()
	other := writeSyntheticRun(t, 2, 1)
	if _, _, err := runHarness("report", "-o", out, dir, other); err != nil {
		t.Fatalf("harness report -o %s (two runs): %v", out, err)
	}
	if _, err := os.Stat(filepath.Join(out, "report.md")); err != nil {
		t.Errorf("harness report -o: %v", err)
	}
}

// TestReportCompareErrors checks that every failure is one line and exit status 1.
func TestReportCompareErrors(t *testing.T) {
	tmp := t.TempDir()
	noIndex := filepath.Join(tmp, "noindex")
	if err := os.Mkdir(noIndex, 0o755); err != nil {
		t.Fatal(err)
	}
	broken := writeSyntheticRun(t, 3, 1)
	if err := os.WriteFile(filepath.Join(broken, "amped-file_size_bytes=500-trial=1.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := writeSyntheticRun(t, 4, 1)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"report no dir", []string{"report"}, "want at least one run directory"},
		{"report missing dir", []string{"report", filepath.Join(tmp, "nope")}, "no such file or directory"},
		{"report no run.json", []string{"report", noIndex}, "run.json"},
		{"report unreadable result", []string{"report", broken}, "amped-file_size_bytes=500-trial=1"},
		{"report several without -o", []string{"report", good, broken}, "--output"},
		{"compare one arg", []string{"compare", good}, "want two runs"},
		{"compare missing path", []string{"compare", good, filepath.Join(tmp, "nope")}, "no such file or directory"},
		{"compare no run.json", []string{"compare", noIndex, good}, "run.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runHarness(tt.args...)
			if err == nil {
				t.Fatalf("harness %v: got no error, want one naming %q", tt.args, tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "harness ") {
				t.Errorf("harness %v: got error %q, want one line starting \"harness \" naming %q", tt.args, msg, tt.want)
			}
			if code := cliutil.ExitCode(err); code != 1 {
				t.Errorf("harness %v: got exit status %d, want 1", tt.args, code)
			}
		})
	}
}

func TestCompareCommand(t *testing.T) {
	old := writeSyntheticRun(t, 5, 1)
	faster := writeSyntheticRun(t, 6, 1.3)
	stdout, _, err := runHarness("compare", old, faster)
	if err != nil {
		t.Fatalf("harness compare %s %s: %v", old, faster, err)
	}
	for _, want := range []string{"old: " + old, "new: " + faster, "throughput (req/s)", "amped", "sped", "p=0.100 n=3"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("harness compare: got stdout\n%s\nwant it to contain %q", stdout, want)
		}
	}
}
