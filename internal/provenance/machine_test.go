package provenance_test

import (
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"flashbench/internal/provenance"
)

func TestMachine(t *testing.T) {
	p := provenance.Machine()
	if p.GoVersion != runtime.Version() || p.CPUs != runtime.NumCPU() || p.Kernel == "" || p.Hostname == "" {
		t.Errorf("got go %q, cpus %d, kernel %q, hostname %q; want %s, %d, both set",
			p.GoVersion, p.CPUs, p.Kernel, p.Hostname, runtime.Version(), runtime.NumCPU())
	}
}

// TestToolVersion asks the real servers the harness runs as baselines for
// their version.
func TestToolVersion(t *testing.T) {
	tests := []struct{ prog, want string }{
		{"nginx", `^nginx version: nginx/\d+\.\d+`},
		{"apache2", `^Server version: Apache/\d+\.\d+`},
		{"lighttpd", `^lighttpd/\d+\.\d+`},
	}
	for _, tt := range tests {
		t.Run(tt.prog, func(t *testing.T) {
			path, err := exec.LookPath(tt.prog)
			if err != nil {
				if path, err = exec.LookPath("/usr/sbin/" + tt.prog); err != nil {
					t.Skipf("%s not installed", tt.prog)
				}
			}
			got, err := provenance.ToolVersion(path)
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(tt.want).MatchString(got) || strings.Contains(got, "\n") {
				t.Errorf("got %q, want one line matching %s", got, tt.want)
			}
		})
	}
}

func TestToolVersionFails(t *testing.T) {
	tests := []struct{ prog, want string }{
		{"false", "provenance: false -v: exit status 1"},
		{"true", "provenance: true -v: printed nothing"},
		{"/nonexistent/nginx", "provenance: /nonexistent/nginx -v: fork/exec /nonexistent/nginx: no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.prog, func(t *testing.T) {
			got, err := provenance.ToolVersion(tt.prog)
			if err == nil || err.Error() != tt.want || got != "" {
				t.Errorf("got %q, %v; want error %q", got, err, tt.want)
			}
		})
	}
}
