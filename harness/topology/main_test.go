package topology_test

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flashbench/harness/topology"
	"flashbench/harness/topology/topologytest"
)

// binDir holds webserver, loadgen and fileset, the binaries the ssh
// topology installs on its hosts, built once for the tests.
var binDir string

func TestMain(m *testing.M) {
	if os.Getenv("FLASHBENCH_HARNESS_HELPER") != "" {
		os.Exit(helperMain())
	}
	dir, err := os.MkdirTemp("", "topology-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
		"flashbench/servers/cmd/...", "flashbench/loadgen/cmd/loadgen", "flashbench/fileset/cmd/fileset")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build binaries:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// helperMain is the test binary re-executed: "proxy" is the ssh lab's
// ProxyCommand; "tree" starts two children of itself that sleep, then
// waits for them.
func helperMain() int {
	switch os.Getenv("FLASHBENCH_HARNESS_HELPER") {
	case "proxy":
		return topologytest.ProxyMain(os.Args[1], os.Args[2])
	case "tree":
		var cmds []*exec.Cmd
		for i := 0; i < 2; i++ {
			c := exec.Command(os.Args[0])
			c.Env = append(os.Environ(), "FLASHBENCH_HARNESS_HELPER=sleep")
			if err := c.Start(); err != nil {
				return 1
			}
			cmds = append(cmds, c)
		}
		fmt.Println("ready")
		for _, c := range cmds {
			c.Wait()
		}
	case "sleep":
		// Burn a little CPU so the tree's CPU time is measurable, then sleep.
		x := 0
		for i := 0; i < 50_000_000; i++ {
			x += i
		}
		_ = x
		select {}
	}
	return 0
}

// startNull starts the null server on the topology's server side at port
// and returns its URL once it listens; it is killed when the test ends.
func startNull(t *testing.T, topo topology.Topology, port uint16) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() }) // after the server is killed
	addr := netip.AddrPortFrom(topo.ServerAddr(), port).String()
	p, err := topo.StartServer(topology.Command{Path: filepath.Join(binDir, "webserver"),
		Args: []string{"--arch", "null", "--listen", addr}, Stdout: w, Stderr: os.Stderr})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill() })
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		if !strings.Contains(line, "listening on "+addr) {
			t.Fatalf("server: got %q, want it listening on %s", line, addr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server not listening after 30s")
	}
	return "http://" + addr + "/"
}
