package harness_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"flashbench/harness"
	"flashbench/harness/topology"
	"flashbench/harness/topology/topologytest"
	"flashbench/results"
)

// remoteDirs returns the remote directories the ssh topology made (the
// hosts are on this machine).
func remoteDirs(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("/tmp/fb-remote-*")
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// TestSSHQuick runs the quick experiment with the server on one host and
// clients on two (one of them the server's host), over real OpenSSH.
func TestSSHQuick(t *testing.T) {
	lab := topologytest.NewSSHLab(t)
	before := remoteDirs(t)
	topo, err := topology.NewSSH(topology.SSHOptions{ServerHost: "fbsrv", ClientHosts: []string{"fbcli", "fbsrv"}, ConfigFile: lab.Config})
	if topo != nil {
		t.Cleanup(func() { topo.Close() })
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := topo.ServerAddr().String(); got != "198.18.0.1" {
		t.Errorf("got server address %s, want 198.18.0.1 (fbsrv's HostName)", got)
	}
	var log bytes.Buffer
	out, err := harness.Execute(context.Background(), harness.Options{Experiment: quickExperiment(t), Topology: topo,
		BinDir: binDir, OutDir: t.TempDir(), FileSetDir: t.TempDir(), Quick: true, Log: &log})
	if err != nil {
		t.Fatalf("Execute: %v\n%s", err, log.String())
	}
	made := len(remoteDirs(t)) - len(before)
	if err := topo.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if made != 2 {
		t.Errorf("got %d remote directories, want 2 (one a host)", made)
	}
	if after := remoteDirs(t); len(after) != len(before) {
		t.Errorf("got remote directories %v after Close, want %v", after, before)
	}
	if left := processesMatching(t, "/tmp/fb-remote-"); len(left) > 0 {
		t.Errorf("got remote processes %v left behind, want none", left)
	}
	ix, err := harness.ReadIndex(out.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Topology != "ssh" || ix.Interrupted {
		t.Errorf("run.json: got topology %q, interrupted %v; want ssh, false", ix.Topology, ix.Interrupted)
	}
	ok := 0
	for _, p := range ix.Points {
		if p.Status != harness.StatusOK {
			continue
		}
		ok++
		checkSSHPoint(t, out.Dir, p)
	}
	if ok != 4 {
		logs, _ := filepath.Glob(filepath.Join(out.Dir, "logs", "*"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			log.WriteString(l + ":\n" + string(b))
		}
		t.Errorf("got %d points ok, want 4 (sped and null at two sizes)\n%s", ok, log.String())
	}
}

// checkSSHPoint checks a point's document: both clients merged, the
// server's usage and stats fetched from its host.
func checkSSHPoint(t *testing.T, dir string, p harness.PointEntry) {
	t.Helper()
	r, err := results.Read(filepath.Join(dir, p.Result))
	if err != nil {
		t.Fatal(err)
	}
	if r.Provenance.Topology != "ssh" || r.RequestsTotal == 0 || r.ErrorsTotal != 0 {
		t.Errorf("point %s: got topology %q, %d requests, %d errors; want ssh, > 0, 0", p.ID, r.Provenance.Topology, r.RequestsTotal, r.ErrorsTotal)
	}
	if n, _ := r.Config.Extra["merged_results"].(float64); n != 2 {
		t.Errorf("point %s: got merged_results %v, want 2 (two client hosts)", p.ID, r.Config.Extra["merged_results"])
	}
	if !strings.Contains(strings.Join(r.Config.Targets, " "), "198.18.0.1:") {
		t.Errorf("point %s: got targets %v, want 198.18.0.1", p.ID, r.Config.Targets)
	}
	if sv := r.Server; sv.PeakRSSBytes == nil || *sv.PeakRSSBytes <= 0 || sv.CPUUserS == nil || len(sv.Stats) == 0 {
		t.Errorf("point %s: got server peak rss %v, cpu user %v s, %d stats; want > 0, measured, some",
			p.ID, sv.PeakRSSBytes, sv.CPUUserS, len(sv.Stats))
	}
}

// processesMatching returns the live processes whose command line
// contains s.
func processesMatching(t *testing.T, s string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && bytes.Contains(b, []byte(s)) {
			pids = append(pids, pid)
		}
	}
	return pids
}
