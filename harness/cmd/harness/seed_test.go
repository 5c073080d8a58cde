package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/harness"
)

// TestRunSeveralSeedTable runs make bench's two experiments in one
// invocation, quickly, with Flash and Flash-Lite only: each must be
// archived in its own directory, the first must record the second as its
// related run, the terminal output must start with the seed paper's table
// (before either run's summary) and the first run's report must hold both
// experiments, the table first.
func TestRunSeveralSeedTable(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run([]string{"harness", "run", "hotos97", "hotos97-cgi", "--quick", "--archs", "amped,flashlite",
		"--bin", binDir, "--out", out, "--filesets", worldReadable(t)}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("harness run: %v\nstderr:\n%s", err, stderr.String())
	}
	first, second := runDir(t, filepath.Join(out, "hotos97")), runDir(t, filepath.Join(out, "hotos97-cgi"))
	ix, err := harness.ReadIndex(first)
	if err != nil {
		t.Fatal(err)
	}
	want := "../../hotos97-cgi/" + filepath.Base(second)
	if len(ix.RelatedRuns) != 1 || ix.RelatedRuns[0] != want {
		t.Errorf("hotos97 run.json related_runs: got %q, want [%q]", ix.RelatedRuns, want)
	}
	text := stdout.String()
	title, summary := strings.Index(text, "HotOS 1997, Table 1, as measured here"), strings.Index(text, "hotos97-cgi")
	if title < 0 || summary < 0 || title > summary {
		t.Errorf("stdout: got the seed table at %d and the first summary at %d, want the table first:\n%s", title, summary, text)
	}
	for _, row := range [][2]string{{"Flash", "amped"}, {"Flash-Lite", "flashlite"}} {
		n := 0
		for _, line := range strings.Split(text, "\n") {
			if f := strings.Fields(line); len(f) > 2 && f[0] == row[0] && f[1] == row[1] {
				n++
			}
		}
		if n != 2 {
			t.Errorf("stdout: got %d lines starting %q, want 2 (the file sizes, then CGI):\n%s", n, row, text)
		}
	}
	md, err := os.ReadFile(filepath.Join(first, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	seed, h1, h2 := strings.Index(string(md), "## HotOS 1997, Table 1"), strings.Index(string(md), "\n## hotos97\n"), strings.Index(string(md), "\n## hotos97-cgi\n")
	if seed < 0 || h1 < seed || h2 < h1 {
		t.Errorf("report.md: got the seed table at %d, hotos97 at %d, hotos97-cgi at %d; want them in that order", seed, h1, h2)
	}
	if !strings.Contains(text, "report of the 2 runs together: "+filepath.Join(first, "report.md")) {
		t.Errorf("stdout does not say where the joint report went:\n%s", text)
	}
}
