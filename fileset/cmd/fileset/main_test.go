package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"flashbench/internal/cliutil"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestMain doubles as the fileset binary when FILESET_TEST_ARGS is set, so the
// tests can check main's exit status and stderr in a real process.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("FILESET_TEST_ARGS"); ok {
		os.Args = append([]string{"fileset"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runCLI runs the command line in-process and returns stdout, stderr and error.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(append([]string{"fileset"}, args...), &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestHelpGolden(t *testing.T) {
	for _, cmd := range []string{"", "generate", "trace", "evict", "resident"} {
		t.Run("help "+cmd, func(t *testing.T) {
			args := strings.Fields(cmd + " --help")
			stdout, stderr, err := runCLI(t, args...)
			if err != nil || stderr != "" {
				t.Fatalf("fileset %s: got error %v, stderr %q", strings.Join(args, " "), err, stderr)
			}
			name := "help.stdout"
			if cmd != "" {
				name = "help_" + cmd + ".stdout"
			}
			golden(t, name, stdout)
		})
	}
}

func TestGenerateAndTraceGolden(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "set")
	for _, want := range []string{"generated", "up to date:"} {
		stdout, _, err := runCLI(t, "generate", "--kind", "specweb99", "-c", "1", "--dir", dir, "--seed", "1")
		if err != nil {
			t.Fatal(err)
		}
		if wantLine := want + " specweb99 set in " + dir + ": 900 files, "; !strings.HasPrefix(stdout, wantLine) {
			t.Errorf("generate: got %q, want a line starting %q", stdout, wantLine)
		}
	}
	manifest := filepath.Join(dir, "manifest.json")
	stdout, _, err := runCLI(t, "trace", "--manifest", manifest, "--requests", "25", "--seed", "3")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "trace_specweb99.stdout", stdout)

	out := filepath.Join(t.TempDir(), "trace.txt")
	if _, _, err := runCLI(t, "trace", "-m", manifest, "-n", "25", "--seed", "3", "-o", out); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(out); err != nil || string(data) != stdout {
		t.Errorf("trace --output: got %q, %v; want the same bytes as on stdout", data, err)
	}
}

func TestTraceFromLogGolden(t *testing.T) {
	stdout, _, err := runCLI(t, "trace", "--from-log", filepath.Join("testdata", "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "trace_log.stdout", stdout)
}

func TestErrors(t *testing.T) {
	tmp := t.TempDir()
	badLog := filepath.Join(tmp, "bad.log")
	log := strings.Repeat(`h - - [d] "GET /x HTTP/1.0" 200 1`+"\n", 16) + `h - - [d] "GET /x HTTP/1.0 200 1` + "\n"
	if err := os.WriteFile(badLog, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	badManifest := filepath.Join(tmp, "manifest.json")
	if err := os.WriteFile(badManifest, []byte(`{"schema_version":1,`), 0o644); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(tmp, "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	set := filepath.Join(tmp, "set")
	tests := []struct {
		name string
		args []string
		want string
		code int // the exit status
	}{
		{"unknown flag", []string{"--bogus"}, "fileset: bad usage: flag provided but not defined: -bogus (see fileset --help)", 2},
		{"unknown flag of a command", []string{"generate", "--bogus"}, "fileset: bad usage: flag provided but not defined: -bogus (see fileset generate --help)", 2},
		{"bad flag value", []string{"trace", "-n", "many"}, `fileset: bad usage: invalid value "many" for flag -n: parse error (see fileset trace --help)`, 2},
		{"no command", nil, "fileset: no command given (see fileset --help)", 1},
		{"unknown command", []string{"serve"}, `fileset: unknown command "serve" (see fileset --help)`, 1},
		{"missing flags", []string{"generate", "--kind", "fixed"}, "fileset generate: --kind and --dir are required", 1},
		{"unknown kind", []string{"generate", "--kind", "specweb2005", "--dir", set}, `fileset: unknown kind "specweb2005" (want specweb99, specweb96, fixed or single)`, 1},
		{"zero size", []string{"generate", "--kind", "single", "--size", "0", "--dir", set}, "fileset: single needs a positive size, got 0 bytes", 1},
		{"negative size", []string{"generate", "--kind", "fixed", "--size", "-5", "--count", "2", "--dir", set}, "fileset: fixed needs a positive size, got -5 bytes", 1},
		{"no connections", []string{"generate", "--kind", "specweb99", "--dir", set}, "fileset: specweb99 needs a positive connection count, got 0", 1},
		{"unwritable dir", []string{"generate", "--kind", "single", "--size", "1", "--dir", filepath.Join(plain, "set")}, "fileset: create directory: mkdir " + plain + ": not a directory", 1},
		{"stray argument", []string{"generate", "--kind", "single", "--size", "1", "--dir", set, "extra"}, `fileset generate: unexpected argument "extra"`, 1},
		{"malformed log", []string{"trace", "--from-log", badLog}, "fileset: access log line 17: malformed request field", 1},
		{"missing log", []string{"trace", "--from-log", filepath.Join(tmp, "none.log")}, "fileset: open access log: open " + filepath.Join(tmp, "none.log") + ": no such file or directory", 1},
		{"trace without source", []string{"trace", "-n", "5"}, "fileset trace: give exactly one of --manifest and --from-log", 1},
		{"trace without requests", []string{"trace", "-m", badManifest}, "fileset trace: --requests must be positive, got 0", 1},
		{"malformed manifest", []string{"trace", "-m", badManifest, "-n", "5"}, "fileset: manifest " + badManifest + ": malformed json: unexpected end of JSON input", 1},
		{"missing manifest", []string{"resident", "-m", filepath.Join(tmp, "none.json")}, "fileset: read manifest: open " + filepath.Join(tmp, "none.json") + ": no such file or directory", 1},
		{"evict without manifest", []string{"evict"}, "fileset evict: --manifest is required", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := runCLI(t, tt.args...)
			if got := cliutil.ExitCode(err); err == nil || got != tt.code {
				t.Fatalf("fileset %q: got %v, status %d; want an error with status %d", tt.args, err, got, tt.code)
			}
			if err.Error() != tt.want {
				t.Errorf("fileset %q:\ngot  %s\nwant %s", tt.args, err, tt.want)
			}
			if stdout != "" || stderr != "" {
				t.Errorf("fileset %q: got stdout %q stderr %q, want nothing but the error", tt.args, stdout, stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(set, "manifest.json")); !os.IsNotExist(err) {
		t.Errorf("failed runs left a manifest in %s: %v", set, err)
	}
}

func TestMainExitStatus(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FILESET_TEST_ARGS=generate --kind fixed --size -1 --count 1 --dir "+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("got %v, want exit status 1", err)
	}
	if want := "fileset: fixed needs a positive size, got -1 bytes\n"; stderr.String() != want || stdout.Len() != 0 {
		t.Errorf("got stderr %q stdout %q, want stderr %q", stderr.String(), stdout.String(), want)
	}
}

func TestGenerateFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("mount tmpfs: %v (no CAP_SYS_ADMIN here)", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	_, _, err := runCLI(t, "generate", "--kind", "fixed", "--size", "400000", "--count", "4", "--dir", dir)
	var ec cli.ExitCoder
	if !errors.As(err, &ec) || ec.ExitCode() != 1 {
		t.Fatalf("4 x 400 KB on a 1 MB tmpfs: got %v, want an exit error with status 1", err)
	}
	if want := ": no space left on device"; !strings.HasSuffix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %q, want one line ending in %q", err, want)
	}
	entries, _ := filepath.Glob(filepath.Join(dir, "*"))
	hidden, _ := filepath.Glob(filepath.Join(dir, ".*"))
	for _, e := range append(entries, hidden...) {
		if filepath.Base(e) == "manifest.json" || strings.Contains(filepath.Base(e), ".tmp") {
			t.Errorf("full disk left %s behind", e)
		}
	}
}

func TestEvictAndResident(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := runCLI(t, "generate", "--kind", "fixed", "--size", "8192", "--count", "3", "--dir", dir); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "manifest.json")
	stdout, _, err := runCLI(t, "evict", "-m", manifest)
	if want := "evicted 3 files, 24576 bytes\n"; err != nil || stdout != want {
		t.Errorf("evict: got %q, %v; want %q", stdout, err, want)
	}
	stdout, _, err = runCLI(t, "resident", "-m", manifest, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		SchemaVersion int     `json:"schema_version"`
		ResidentBytes int64   `json:"resident_bytes"`
		TotalBytes    int64   `json:"total_bytes"`
		ResidentPct   float64 `json:"resident_pct"`
	}
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("resident --json: %v in %q", err, stdout)
	}
	if report.SchemaVersion != 1 || report.TotalBytes != 24576 || report.ResidentBytes < 0 || report.ResidentBytes > report.TotalBytes {
		t.Errorf("resident --json: got %+v, want schema 1, total 24576, 0 <= resident <= total", report)
	}
	stdout, _, err = runCLI(t, "resident", "-m", manifest)
	if err != nil || !strings.HasPrefix(stdout, "resident ") || !strings.Contains(stdout, " of 24576 bytes (") {
		t.Errorf("resident: got %q, %v; want \"resident R of 24576 bytes (P%%)\"", stdout, err)
	}
}
