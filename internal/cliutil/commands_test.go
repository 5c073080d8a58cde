package cliutil_test

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEveryCommand builds every flashbench command (each main package of
// the module, the CGI programs included) and checks the contract they
// share: --help prints to stdout and exits 0; a flag that does not exist
// is one line on stderr, naming the command and saying "bad usage", and
// exit status 2, with nothing on stdout.
func TestEveryCommand(t *testing.T) {
	list, err := exec.Command("go", "list", "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, "flashbench/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := strings.Fields(string(list))
	if len(pkgs) < 10 {
		t.Fatalf("go list: got %d commands %v, want every one (10 or more)", len(pkgs), pkgs)
	}
	bin := t.TempDir()
	if out, err := exec.Command("go", append([]string{"build", "-o", bin + "/"}, pkgs...)...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	commands := map[string]string{} // name: path
	for _, pkg := range pkgs {
		commands[filepath.Base(pkg)] = filepath.Join(bin, filepath.Base(pkg))
	}
	for _, name := range slices.Sorted(maps.Keys(commands)) {
		path := commands[name]
		t.Run(name, func(t *testing.T) {
			stdout, stderr, code := runCommand(t, path, "--help")
			if code != 0 || !strings.Contains(stdout, name) || stderr != "" {
				t.Errorf("%s --help: got status %d, stdout %q, stderr %q; want 0, a help naming %s, nothing", name, code, stdout, stderr, name)
			}
			stdout, stderr, code = runCommand(t, path, "--no-such-flag")
			want := name + ": bad usage: "
			if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, want) ||
				!strings.Contains(stderr, "no-such-flag") {
				t.Errorf("%s --no-such-flag: got status %d, stdout %q, stderr %q; want 2, nothing, one line starting %q naming the flag",
					name, code, stdout, stderr, want)
			}
		})
	}
}

// runCommand runs path with args, standard input empty, and returns what
// it wrote and its exit status. PATH holds /usr/bin and /bin alone: a
// command that ran on instead of answering its arguments finds no nginx
// (in /usr/sbin) and stops before any load.
func runCommand(t *testing.T, path string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), "PATH=/usr/bin:/bin", "FLASHBENCH_CGI_ROOT=") // page reads it; it must not matter
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", path, err)
	}
	return out.String(), errb.String(), code
}
