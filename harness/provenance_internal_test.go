package harness

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestToolVersions asks each installed real server of a run for its
// version, once per program (apache2 for its three MPMs), and none of
// the webserver's architectures.
func TestToolVersions(t *testing.T) {
	archs := []string{"sped", "nginx", "apache2-prefork", "apache2-event", "lighttpd", "mini_httpd", "webfsd", "caddy", "h2o", "amped"}
	want := map[string]string{
		"nginx":      `^nginx version: nginx/\d`,
		"apache2":    `^Server version: Apache/\d`,
		"lighttpd":   `^lighttpd/\d`,
		"mini_httpd": `^mini_httpd/\d`,
		"webfsd":     `^webfs \d`,
		"caddy":      `^v?\d+\.\d+`,
		"h2o":        `^h2o version \d`,
	}
	installed := map[string]bool{}
	for _, a := range archs {
		if path, err := lookupExternal(a); err == nil {
			installed[filepath.Base(path)] = true
		}
	}
	if len(installed) == 0 {
		t.Skip("no real server installed")
	}
	before := serversRunning(t, installed)
	got := toolVersions(archs)
	if len(got) != len(installed) {
		t.Errorf("got %d tools %v, want the %d installed: %v", len(got), got, len(installed), installed)
	}
	for prog := range installed {
		if !regexp.MustCompile(want[prog]).MatchString(got[prog]) {
			t.Errorf("%s: got %q, want a version matching %s", prog, got[prog], want[prog])
		}
	}
	for pid, line := range serversRunning(t, installed) {
		if _, ok := before[pid]; !ok {
			t.Errorf("asking for versions left a server running: %s", line)
		}
	}
	if got := toolVersions([]string{"sped", "amped", "nosucharch"}); got != nil {
		t.Errorf("webserver architectures only: got %v, want nil", got)
	}
}

// serversRunning maps the PIDs of the processes running one of the
// programs to their ps lines.
func serversRunning(t *testing.T, progs map[string]bool) map[string]string {
	t.Helper()
	out, err := exec.Command("ps", "-eo", "pid=,comm=").Output()
	if err != nil {
		t.Fatal(err)
	}
	running := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 && progs[f[1]] {
			running[f[0]] = line
		}
	}
	return running
}
