package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/results"
)

func TestSoakErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown arch", []string{"soak", "--archs", "apache", "--bin", binDir}, `unknown architecture "apache"`},
		{"twice", []string{"soak", "--archs", "sped,sped", "--bin", binDir}, `"sped" given twice`},
		{"short", []string{"soak", "--duration", "2s", "--bin", binDir}, "want at least 5s"},
		{"no binaries", []string{"soak", "--bin", "/nonexistent"}, "run make build"},
		{"arguments", []string{"soak", "extra"}, "unexpected arguments"},
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

// buildCGI puts the CGI programs into binDir/cgi-bin.
func buildCGI(t *testing.T) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, "cgi-bin")+"/",
		"flashbench/cgi-apps/cmd/dyn", "flashbench/cgi-apps/cmd/adrot", "flashbench/cgi-apps/cmd/page")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build CGI programs: %v\n%s", err, out)
	}
}

// TestSoakInterrupt sends SIGINT to `harness soak` once its first load
// interval is written: it must exit with status 130, stop and reap every
// server, and keep the intervals written so far and a report marked
// interrupted.
func TestSoakInterrupt(t *testing.T) {
	buildCGI(t)
	out := filepath.Join(t.TempDir(), "soak")
	first := filepath.Join(out, "intervals", "sped", "keepalive-000.json")
	interruptRun(t, []string{"soak", "--duration", "1m", "--interval", "2s", "--archs", "sped,prefork",
		"--bin", binDir, "-o", out, "--filesets", t.TempDir()},
		func(int) bool { _, err := os.Stat(first); return err == nil })
	checkInterruptedSoak(t, out)
}

// checkInterruptedSoak checks the report and the intervals of an
// interrupted soak run.
func checkInterruptedSoak(t *testing.T, out string) {
	t.Helper()
	var rep struct {
		Interrupted bool     `json:"interrupted"`
		Passed      bool     `json:"passed"`
		Failures    []string `json:"failures"`
		Results     struct {
			IntervalFiles int `json:"interval_files"`
			FilesReadBack int `json:"files_read_back"`
		} `json:"results"`
	}
	data, err := os.ReadFile(filepath.Join(out, "soak.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Interrupted || rep.Passed || rep.Results.IntervalFiles < 2 || rep.Results.FilesReadBack != rep.Results.IntervalFiles {
		t.Errorf("soak.json: got interrupted %v, passed %v, results %+v; want an interrupted run with every interval read back",
			rep.Interrupted, rep.Passed, rep.Results)
	}
	files, _ := filepath.Glob(filepath.Join(out, "intervals", "*", "*.json"))
	cut := 0
	for _, f := range files {
		res, err := results.Read(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
		} else if res.Interrupted {
			cut++
		}
	}
	if len(files) != rep.Results.IntervalFiles || cut == 0 {
		t.Errorf("got %d interval files, %d of them interrupted; want %d, some interrupted", len(files), cut, rep.Results.IntervalFiles)
	}
}
