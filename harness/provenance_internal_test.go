package harness

import (
	"path/filepath"
	"regexp"
	"testing"
)

// TestToolVersions asks each installed real server of a run for its
// version, once per program (apache2 for its three MPMs), and none of
// the webserver's architectures.
func TestToolVersions(t *testing.T) {
	archs := []string{"sped", "nginx", "apache2-prefork", "apache2-event", "lighttpd", "amped"}
	want := map[string]string{
		"nginx":    `^nginx version: nginx/\d`,
		"apache2":  `^Server version: Apache/\d`,
		"lighttpd": `^lighttpd/\d`,
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
	got := toolVersions(archs)
	if len(got) != len(installed) {
		t.Errorf("got %d tools %v, want the %d installed: %v", len(got), got, len(installed), installed)
	}
	for prog := range installed {
		if !regexp.MustCompile(want[prog]).MatchString(got[prog]) {
			t.Errorf("%s: got %q, want a version matching %s", prog, got[prog], want[prog])
		}
	}
	if got := toolVersions([]string{"sped", "amped", "nosucharch"}); got != nil {
		t.Errorf("webserver architectures only: got %v, want nil", got)
	}
}
