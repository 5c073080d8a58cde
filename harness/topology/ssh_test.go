package topology_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"flashbench/harness/topology"
	"flashbench/harness/topology/topologytest"
	"flashbench/results"
)

// TestSSHResultKeptUntilLocalCopy runs a client whose result cannot be
// written here (its directory does not exist on this machine): the run
// fails, and the client's result stays on its host. Once the directory
// exists, the same run writes the result here, and only then is the
// remote copy removed.
func TestSSHResultKeptUntilLocalCopy(t *testing.T) {
	lab := topologytest.NewSSHLab(t)
	topo, err := topology.NewSSH(topology.SSHOptions{ServerHost: "fbsrv", ClientHosts: []string{"fbcli"}, ConfigFile: lab.Config})
	if topo != nil {
		t.Cleanup(func() { topo.Close() })
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := topo.Install(binDir); err != nil {
		t.Fatal(err)
	}
	url := startNull(t, topo, 8080)
	out := filepath.Join(t.TempDir(), "gone", "run.json")
	remote := func() string {
		t.Helper()
		m, err := filepath.Glob(filepath.Join("/tmp/fb-remote-*", "root", out)) // the hosts are on this machine
		if err != nil || len(m) > 1 {
			t.Fatalf("remote copies of %s: got %v, %v; want at most one", out, m, err)
		}
		if len(m) == 0 {
			return ""
		}
		return m[0]
	}
	client := func() error {
		t.Helper()
		p, err := topo.StartClient(topology.Command{Path: filepath.Join(binDir, "loadgen"),
			Args: []string{url, "--connections", "2", "--duration", "300ms", "--warmup", "0s", "--output", out}})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-p.Done():
		case <-time.After(60 * time.Second):
			p.Kill()
			t.Fatal("client still running after 60s")
		}
		return p.Err()
	}
	err = client()
	if err == nil || !strings.Contains(err.Error(), "no such file or directory") {
		t.Fatalf("client with no local directory: got %v, want the local write's error", err)
	}
	kept := remote()
	if kept == "" {
		t.Fatalf("after a failed local write: the remote result of %s is gone, want it kept", out)
	}
	if r, err := results.Read(kept); err != nil || r.RequestsTotal == 0 {
		t.Errorf("remote result kept: got %v, %v; want a result with requests", r, err)
	}
	if err := os.Mkdir(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := client(); err != nil {
		t.Fatalf("client: %v", err)
	}
	if r, err := results.Read(out); err != nil || r.RequestsTotal == 0 {
		t.Errorf("local result: got %v, %v; want a result with requests", r, err)
	}
	if left := remote(); left != "" {
		t.Errorf("after the local write: remote result %s left, want it removed", left)
	}
}
