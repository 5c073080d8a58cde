package harness_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"flashbench/harness"
	"flashbench/harness/topology"
	"flashbench/harness/topology/topologytest"
	"flashbench/results"
)

// TestNetnsQuick runs the quick experiment on the netns topology, with a
// rate limit on its link.
func TestNetnsQuick(t *testing.T) {
	topologytest.NeedNetns(t)
	topo, err := topology.NewNetns("100mbit")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	var log bytes.Buffer
	out, err := harness.Execute(context.Background(), harness.Options{Experiment: quickExperiment(t), Topology: topo,
		BinDir: binDir, OutDir: t.TempDir(), FileSetDir: worldReadableTempDir(t), Quick: true, Log: &log})
	if err != nil {
		t.Fatalf("Execute: %v\n%s", err, log.String())
	}
	if err := topo.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if left := topologytest.OwnNamespaces(t); len(left) > 0 {
		t.Errorf("got namespaces %v left after Close, want none", left)
	}
	if left := processesFrom(t, binDir); len(left) > 0 {
		t.Errorf("got processes %v left behind, want none", left)
	}
	ix, err := harness.ReadIndex(out.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Topology != "netns" || ix.Interrupted {
		t.Errorf("run.json: got topology %q, interrupted %v; want netns, false", ix.Topology, ix.Interrupted)
	}
	ok := 0
	for _, p := range ix.Points {
		if p.Status != harness.StatusOK {
			continue
		}
		ok++
		r, err := results.Read(filepath.Join(out.Dir, p.Result))
		if err != nil {
			t.Fatal(err)
		}
		if r.Provenance.Topology != "netns" || len(r.Config.Targets) == 0 || !strings.Contains(r.Config.Targets[0], "198.18.0.1:") ||
			r.RequestsTotal == 0 {
			t.Errorf("point %s: got topology %q, targets %v, %d requests; want netns, 198.18.0.1, > 0",
				p.ID, r.Provenance.Topology, r.Config.Targets, r.RequestsTotal)
		}
	}
	if ok != 4 {
		t.Errorf("got %d points ok, want 4 (sped and null at two sizes)\n%s", ok, log.String())
	}
}
