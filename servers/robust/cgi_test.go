package robust_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"flashbench/cgi-apps/content"
	"flashbench/servers/internal/proctree"
	"flashbench/servers/internal/webtest"
)

// cgiSize is the body size of the CGI requests of the load.
const cgiSize = 20000

// cgiTarget is the CGI request of the load, answered by dyn with
// content.Dyn(cgiSize).
var cgiTarget = fmt.Sprintf("/cgi-bin/dyn?size=%d", cgiSize)

// cgiFixture is the CGI directory of the suite, built once: dyn, a file
// that is not executable, and a symlink to a program outside the
// directory that would create marker if it ever ran.
var cgiFixture struct {
	once   sync.Once
	dir    string
	marker string
	err    error
}

// cgiDir returns the suite's CGI directory and the marker path that the
// program outside it creates when run.
func cgiDir(t *testing.T) (dir, marker string) {
	t.Helper()
	f := &cgiFixture
	f.once.Do(func() {
		base := filepath.Dir(webtest.Binary) // removed by webtest.Main
		f.dir = filepath.Join(base, "cgi-bin")
		f.marker = filepath.Join(base, "outside-ran")
		gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if out, err := exec.Command(gobin, "build", "-o", f.dir+"/", "flashbench/cgi-apps/cmd/dyn").CombinedOutput(); err != nil {
			f.err = fmt.Errorf("build dyn: %v\n%s", err, out)
			return
		}
		outside := filepath.Join(base, "outside")
		script := "#!/bin/sh\ntouch " + f.marker + "\nprintf 'Content-Type: text/plain\\r\\n\\r\\nran outside\\n'\n"
		for _, step := range []error{
			os.WriteFile(outside, []byte(script), 0o755),
			os.Symlink(outside, filepath.Join(f.dir, "escape")),
			os.Symlink("../outside", filepath.Join(f.dir, "escape-relative")),
			os.WriteFile(filepath.Join(f.dir, "noexec"), []byte(script), 0o644),
			os.Mkdir(filepath.Join(f.dir, "sub"), 0o755),
			os.Symlink(outside, filepath.Join(f.dir, "sub", "dyn")),
		} {
			if step != nil && f.err == nil {
				f.err = step
			}
		}
	})
	if f.err != nil {
		t.Fatal(f.err)
	}
	return f.dir, f.marker
}

// cgiCases are the CGI rows of the table: confinement to the CGI
// directory on every architecture, and a CGI process killed under load,
// over each architecture's default data path and, on the event loops
// whose default is pipes, over shared memory (flashlite's default).
func cgiCases() []robustCase {
	return []robustCase{
		{name: "cgi-confinement", archs: allArchs(), custom: true, run: testCGIConfinement},
		{name: "kill-cgi", archs: flashArchs, custom: true, run: func(t *testing.T, e *env) { testKillCGI(t, e) }},
		{name: "kill-cgi-shm", archs: []string{"sped", "uring"}, custom: true, run: func(t *testing.T, e *env) {
			testKillCGI(t, e, "--cgi-shared-memory")
		}},
	}
}

// startCGIServer starts e's architecture with the suite's CGI directory.
func startCGIServer(t *testing.T, e *env, extra ...string) (marker string) {
	dir, marker := cgiDir(t)
	e.srv = startServer(t, e.arch, e.root, append([]string{"--cgi-dir", dir}, extra...)...)
	return marker
}

// testCGIConfinement asks for programs outside the CGI directory in every
// way a request can name one: none may run, and each gets the status the
// core gives a name that is not a program there.
func testCGIConfinement(t *testing.T, e *env) {
	marker := startCGIServer(t, e)
	for _, tt := range []struct {
		target string
		status int
	}{
		{"/cgi-bin/escape", 404},          // symlink to a program outside
		{"/cgi-bin/escape-relative", 404}, // the same, relative
		{"/cgi-bin/noexec", 404},          // not executable
		{"/cgi-bin/sub/dyn", 404},         // not directly in the directory
		// What follows /cgi-bin/ is a program name or nothing: an escape,
		// a '/' or a dot segment makes it no name, 404 (httpcore.CGIName).
		{"/cgi-bin/%2e%2e/outside", 404},
		{"/cgi-bin/..%2foutside", 404},
		{"/cgi-bin/../../outside", 404},
		{"/cgi-bin/dyn%00", 404},
		{"/cgi-bin/", 404},
	} {
		resp, err := roundTrip(e.addr(), get1(tt.target), false)
		switch {
		case err != nil:
			t.Errorf("GET %s: %v, want status %d", tt.target, err, tt.status)
		case strings.Contains(string(resp.Body), "ran outside"):
			t.Errorf("GET %s: got status %d from the program outside the CGI directory, want %d", tt.target, resp.Status, tt.status)
		case resp.Status != tt.status:
			t.Errorf("GET %s: got status %d, want %d", tt.target, resp.Status, tt.status)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		os.Remove(marker)
		t.Errorf("the program outside the CGI directory ran, want it never run")
	}
	if err := fetch(e.addr(), cgiTarget, content.Dyn(cgiSize)); err != nil {
		t.Errorf("the program inside: %v", err)
	}
}

// testKillCGI kills persistent CGI processes with SIGKILL while clients
// load the server with CGI requests: each kill costs at most the request
// the process held (a 502), service continues, no zombie is left, and the
// server processes' descriptors that lead to no live CGI process return
// to their count.
func testKillCGI(t *testing.T, e *env, extra ...string) {
	startCGIServer(t, e, append([]string{"--cgi-procs", "2"}, extra...)...)
	pid := e.srv.Pid()
	want := content.Dyn(cgiSize)
	// Every server process must have started CGI before the count: a
	// prefork worker sets its CGI up (and holds its descriptors) with
	// its first CGI request, and, serving one request at a time, runs
	// one CGI process.
	warmProcs := 1
	if e.arch == "prefork" {
		warmProcs = preforkWorkers
	}
	warm := startLoadOf(e.addr(), cgiTarget, want, 3)
	warmed := waitFor(20*time.Second, func() bool { return len(cgiProcs(t, pid)) >= warmProcs })
	warm.stop()
	if !warmed {
		t.Fatalf("got CGI processes %v below %d after 20 s of load, want at least %d", cgiProcs(t, pid), pid, warmProcs)
	}
	fdsBefore := settledFDs(t, e.root, func() []int { return serverProcs(t, pid) }, func() []int { return cgiProcs(t, pid) })
	load := startLoadOf(e.addr(), cgiTarget, want, 3)
	kills := 0
	for deadline := time.Now().Add(10 * time.Second); kills < 3 && time.Now().Before(deadline); {
		time.Sleep(150 * time.Millisecond)
		if procs := cgiProcs(t, pid); len(procs) > 0 && syscall.Kill(procs[0], syscall.SIGKILL) == nil {
			kills++
		}
	}
	time.Sleep(300 * time.Millisecond)
	ok, failed, first := load.stop()
	t.Logf("%d CGI processes killed; %d good, %d answered 502, %d failed requests (first failure: %v)",
		kills, ok, load.badGateway, failed-load.badGateway, first)
	if kills == 0 {
		t.Fatal("no CGI process to kill")
	}
	if ok == 0 || load.badGateway > kills || failed != load.badGateway {
		t.Errorf("under %d kills: got %d good, %d 502 and %d other failures (first: %v); want at most one 502 per kill and nothing else",
			kills, ok, load.badGateway, failed-load.badGateway, first)
	}
	if !waitFor(5*time.Second, func() bool { z, _ := proctree.Zombies(pid); return len(z) == 0 }) {
		z, _ := proctree.Zombies(pid)
		t.Errorf("got zombies %+v below %d, want none", z, pid)
	}
	if err := fetch(e.addr(), cgiTarget, want); err != nil {
		t.Errorf("after the kills: %v", err)
	}
	checkFDs(t, "a leak per killed CGI process", func() int { return unpooledFDs(e.root, serverProcs(t, pid), cgiProcs(t, pid)) }, fdsBefore)
}

// cgiProcs lists the live dyn processes below pid.
func cgiProcs(t *testing.T, pid int) []int {
	var pids []int
	for _, p := range descendants(t, pid) {
		if p.Comm == "dyn" && p.State != 'Z' {
			pids = append(pids, p.PID)
		}
	}
	return pids
}

// serverProcs lists pid and its live descendants that are server
// processes: the CGI programs are left out.
func serverProcs(t *testing.T, pid int) []int {
	t.Helper()
	pids := []int{pid}
	for _, p := range descendants(t, pid) {
		if p.Comm != "dyn" && p.State != 'Z' {
			pids = append(pids, p.PID)
		}
	}
	return pids
}
