package amped_test

import (
	"bufio"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"flashbench/servers/amped"
	"flashbench/servers/httpcore/conformance"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
	buildDir  string
)

// webserver builds the webserver binary once per test run, into a
// directory that TestMain removes.
func webserver(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the webserver binary")
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "amped-webserver-")
		if buildErr != nil {
			return
		}
		binary = filepath.Join(buildDir, "webserver")
		out, err := exec.Command("go", "build", "-o", binary, "flashbench/servers/cmd/webserver").CombinedOutput()
		if err != nil {
			buildErr = &buildError{err: err, out: string(out)}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build webserver: " + e.err.Error() + "\n" + e.out }

// TestWebserverBinary runs `webserver --arch amped` as a real process:
// it passes the conformance suite, survives a helper killed with SIGKILL,
// reports its helper dispatches and its helper counters (the "amped"
// object) in the stats file, and leaves no helper behind when it exits.
func TestWebserverBinary(t *testing.T) {
	bin := webserver(t)
	root := conformance.Docroot(t)
	statsFile := filepath.Join(t.TempDir(), "stats.json")
	cmd := exec.Command(bin, "--arch", "amped", "--root", root, "--listen", "127.0.0.1:0", "--helpers", "3", "--stats-file", statsFile)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	t.Cleanup(func() {
		if !exited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	_, addr, ok := strings.Cut(strings.TrimSpace(line), " listening on ")
	if err != nil || !ok {
		t.Fatalf("ready line: got %q, %v; want \"webserver: amped listening on ADDR\"", line, err)
	}

	conformance.Run(t, addr, root)
	helpers, _ := childrenOf(t, cmd.Process.Pid)
	if len(helpers) == 0 {
		t.Fatal("no helper process after the conformance suite")
	}
	if err := syscall.Kill(helpers[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	// Paths the suite never asked for miss the pathname cache: each needs a
	// helper, so the pool must replace the killed one.
	for i, path := range []string{"/500b.txt", "/after-kill-1", "/after-kill-2", "/after-kill-3"} {
		want := []int{200, 404, 404, 404}[i]
		resp, err := get(c, br, path)
		if err != nil || resp.Status != want {
			t.Fatalf("GET %s after killing helper %d: got %d, %v; want %d", path, helpers[0], status(resp), err, want)
		}
		if want == 200 && string(resp.Body) != string(conformance.File("500b.txt")) {
			t.Fatalf("GET %s: body differs from the file", path)
		}
	}
	waitNoZombiesOf(t, cmd.Process.Pid)

	cmd.Process.Signal(syscall.SIGUSR1)
	var snap struct {
		HelperDispatches uint64       `json:"helper_dispatches"`
		Amped            *amped.Stats `json:"amped"`
	}
	readJSON(t, statsFile, &snap)
	if snap.HelperDispatches == 0 {
		t.Errorf("helper_dispatches: got 0, want the suite's translations")
	}
	switch a := snap.Amped; {
	case a == nil:
		t.Errorf("stats file: no \"amped\" object, want the helper counters")
	case a.HelperSpawns < 2 || a.HelperDeaths != 1 || a.ResolveDispatches == 0:
		t.Errorf("amped: got %+v, want 2 or more spawns, the 1 death, resolve dispatches", *a)
	case a.Dispatches() != snap.HelperDispatches:
		t.Errorf("amped dispatches: got %d, want helper_dispatches, %d", a.Dispatches(), snap.HelperDispatches)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	exited = true
	if err != nil {
		t.Errorf("webserver exit: %v", err)
	}
	for _, pid := range helpers {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("helper %d: still alive after the server exited", pid)
		}
	}
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	deadline := time.Now().Add(conformance.Timeout)
	for {
		data, err := os.ReadFile(name)
		if err == nil {
			if err := json.Unmarshal(data, v); err != nil {
				t.Fatalf("%s is not JSON: %v", name, err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after SIGUSR1: %v", name, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
