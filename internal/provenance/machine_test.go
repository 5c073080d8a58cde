package provenance_test

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

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
	tests := []struct {
		prog string
		args []string
		want string
	}{
		{"nginx", []string{"-v"}, `^nginx version: nginx/\d+\.\d+`},
		{"apache2", []string{"-v"}, `^Server version: Apache/\d+\.\d+`},
		{"lighttpd", []string{"-v"}, `^lighttpd/\d+\.\d+`},
		{"mini_httpd", []string{"-V"}, `^mini_httpd/\d+\.\d+`},
	}
	for _, tt := range tests {
		t.Run(tt.prog, func(t *testing.T) {
			path, err := exec.LookPath(tt.prog)
			if err != nil {
				if path, err = exec.LookPath("/usr/sbin/" + tt.prog); err != nil {
					t.Skipf("%s not installed", tt.prog)
				}
			}
			got, err := provenance.ToolVersion(path, tt.args...)
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
			got, err := provenance.ToolVersion(tt.prog, "-v")
			if err == nil || err.Error() != tt.want || got != "" {
				t.Errorf("got %q, %v; want error %q", got, err, tt.want)
			}
		})
	}
}

// TestToolVersionLeavesNothing runs a "server" that prints a line, leaves
// a child holding its output and exits, as a daemon given a flag it does
// not take would: the call must return the line at once and kill the child.
func TestToolVersionLeavesNothing(t *testing.T) {
	marker := fmt.Sprintf("flashbench-version-test-%d", os.Getpid())
	start := time.Now()
	got, err := provenance.ToolVersion("sh", "-c", "echo server/1.0; exec -a "+marker+" sleep 60 & exit 0")
	if err != nil || got != "server/1.0" {
		t.Fatalf("got %q, %v; want server/1.0", got, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v, want the call back once the program exited", took)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, _ := exec.Command("pgrep", "-f", marker).Output()
		if len(out) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the program's child is still running: pid %s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
