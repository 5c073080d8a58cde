package harness_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"flashbench/harness/topology/topologytest"
)

// binDir holds webserver, loadgen, fileset and slowdisk, and the CGI
// programs under cgi-bin/ (the webserver's default --cgi-dir), built once
// for the tests.
var binDir string

func TestMain(m *testing.M) {
	if os.Getenv("FLASHBENCH_HARNESS_HELPER") != "" {
		os.Exit(helperMain())
	}
	dir, err := os.MkdirTemp("", "harness-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sep := string(filepath.Separator)
	cmd := exec.Command("go", "build", "-o", dir+sep,
		"flashbench/servers/cmd/...", "flashbench/loadgen/cmd/loadgen", "flashbench/fileset/cmd/fileset",
		"flashbench/servers/bench/slowdisk")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	err = cmd.Run()
	if err == nil {
		cgi := exec.Command("go", "build", "-o", filepath.Join(dir, "cgi-bin")+sep, "flashbench/cgi-apps/cmd/...")
		cgi.Stdout, cgi.Stderr = os.Stderr, os.Stderr
		err = cgi.Run()
	}
	if err != nil {
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
// ProxyCommand; "spintree" starts a child that spins and spins itself.
func helperMain() int {
	switch os.Getenv("FLASHBENCH_HARNESS_HELPER") {
	case "proxy":
		return topologytest.ProxyMain(os.Args[1], os.Args[2])
	case "spintree":
		// A child and the process itself spin: the tree wants two cores.
		c := exec.Command(os.Args[0])
		c.Env = append(os.Environ(), "FLASHBENCH_HARNESS_HELPER=spin")
		if err := c.Start(); err != nil {
			return 1
		}
		fmt.Println("ready")
		spin()
	case "spin":
		spin()
	}
	return 0
}

// spin burns CPU until killed.
func spin() {
	for x := 0; ; x++ {
		if x < 0 {
			fmt.Println(x)
		}
	}
}
