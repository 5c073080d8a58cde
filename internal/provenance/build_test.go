package provenance_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"flashbench/internal/provenance"
	"flashbench/results"
)

// git runs git in dir and returns its trimmed output.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=flashbench", "-c", "user.email=flashbench@localhost",
		"-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// build builds the module in dir into a program and returns its path;
// buildvcs is go build's -buildvcs.
func build(t *testing.T, dir, buildvcs string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "prog")
	cmd := exec.Command("go", "build", "-buildvcs="+buildvcs, "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -buildvcs=%s: %v\n%s", buildvcs, err, b)
	}
	return out
}

// TestFile builds a small program in a git checkout, committed, then
// with an uncommitted change, then without version-control stamping, and
// reads each program's build information back.
func TestFile(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git on this machine")
	}
	dir := t.TempDir()
	files := map[string]string{"go.mod": "module prog\n\ngo 1.26\n", "main.go": "package main\n\nfunc main() {}\n"}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dir, "init", "-q")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-q", "-m", "prog")
	head := git(t, dir, "rev-parse", "HEAD")

	clean := build(t, dir, "true")
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() { println() }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	modified := build(t, dir, "true")
	unstamped := build(t, dir, "false")

	tests := []struct {
		name, path string
		revision   string
		modified   *bool
		timed      bool
	}{
		{"committed", clean, head, new(false), true},
		{"uncommitted change", modified, head, new(true), true},
		{"no vcs stamp", unstamped, results.RevisionUnknown, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := provenance.File(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if b.Path != tt.path || b.GoVersion != runtime.Version() || b.VCSRevision != tt.revision {
				t.Errorf("got path %q, go %q, revision %q; want %q, %q, %q", b.Path, b.GoVersion, b.VCSRevision,
					tt.path, runtime.Version(), tt.revision)
			}
			if (b.VCSModified == nil) != (tt.modified == nil) || (b.VCSModified != nil && *b.VCSModified != *tt.modified) {
				t.Errorf("vcs_modified: got %v, want %v", fmtBool(b.VCSModified), fmtBool(tt.modified))
			}
			if (b.VCSTime != "") != tt.timed {
				t.Errorf("vcs_time: got %q, want it set %t", b.VCSTime, tt.timed)
			}
		})
	}
}

func fmtBool(b *bool) string {
	if b == nil {
		return "unknown"
	}
	if *b {
		return "true"
	}
	return "false"
}

func TestFileNotAProgram(t *testing.T) {
	path := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := provenance.File(path)
	if err == nil || !strings.HasPrefix(err.Error(), "provenance: build information of "+path+": ") {
		t.Errorf("got error %v, want one naming %s", err, path)
	}
	if b.VCSRevision != results.RevisionUnknown || b.Path != path {
		t.Errorf("got %+v, want path %s, revision unknown", b, path)
	}
}

// TestSelf: a test binary carries no version-control information.
func TestSelf(t *testing.T) {
	b := provenance.Self()
	if b.VCSRevision != results.RevisionUnknown || b.VCSModified != nil || b.GoVersion != runtime.Version() {
		t.Errorf("got %+v, want revision unknown, vcs_modified unknown, go %s", b, runtime.Version())
	}
	if exe, _ := os.Executable(); b.Path != exe {
		t.Errorf("path: got %q, want %q", b.Path, exe)
	}
}

func TestSetBuild(t *testing.T) {
	const a, c = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "cccccccccccccccccccccccccccccccccccccccc"
	bin := func(rev string, modified bool) results.Binary {
		if rev == results.RevisionUnknown {
			return results.Binary{VCSRevision: rev}
		}
		return results.Binary{VCSRevision: rev, VCSModified: new(modified)}
	}
	tests := []struct {
		name     string
		bins     map[string]results.Binary
		commit   string
		modified bool
		why      string // "" for a clean build
	}{
		{"clean", map[string]results.Binary{"harness": bin(a, false), "webserver": bin(a, false)}, a, false, ""},
		{"modified", map[string]results.Binary{"harness": bin(a, false), "webserver": bin(a, true)}, a, true,
			"webserver built from a tree with uncommitted changes"},
		{"unknown", map[string]results.Binary{"harness": bin(results.RevisionUnknown, false), "webserver": bin(a, false)},
			results.RevisionUnknown, false, "harness carries no version-control information"},
		{"mixed", map[string]results.Binary{"harness": bin(a, false), "webserver": bin(c, false)}, results.RevisionMixed, false,
			"built from different commits (harness aaaaaaaaaaaa, webserver cccccccccccc)"},
		{"none", nil, results.RevisionUnknown, false, "git_commit unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p results.Provenance
			provenance.SetBuild(&p, tt.bins)
			if p.GitCommit != tt.commit || p.GitModified == nil || *p.GitModified != tt.modified {
				t.Errorf("got git_commit %q, git_modified %s; want %q, %t", p.GitCommit, fmtBool(p.GitModified), tt.commit, tt.modified)
			}
			if p.Dirty != (tt.why != "") || p.Clean() != (tt.why == "") {
				t.Errorf("got dirty %t, clean %t; want dirty %t", p.Dirty, p.Clean(), tt.why != "")
			}
			if got := provenance.Why(p); !strings.Contains(got, tt.why) || (tt.why == "") != (got == "") {
				t.Errorf("Why: got %q, want %q", got, tt.why)
			}
			if len(p.Binaries) != len(tt.bins) {
				t.Errorf("binaries: got %d, want %d", len(p.Binaries), len(tt.bins))
			}
		})
	}
}
