package harness_test

import (
	"strings"
	"testing"

	"flashbench/harness"
	"flashbench/harness/topology"
	"flashbench/harness/topology/topologytest"
	"flashbench/results"
)

func TestBoundOf(t *testing.T) {
	budget := func(cores, use float64) *results.Budget {
		return &results.Budget{ServerCPUCores: cores, ServerUtilization: use}
	}
	tests := []struct {
		name       string
		budget     *results.Budget
		client     float64
		mbit, rate float64 // the responses' Mbit/s, the link's rate in Mbit/s (0: none)
		want       string
		reason     string
	}{
		{"server at its budget", budget(0.3, 0.97), 0.41, 100, 0, results.BoundServer, "server at 97% of its 0.3-core budget, client at 41%"},
		{"server at exactly 90%", budget(0.3, 0.90), 0.69, 100, 0, results.BoundServer, "server at 90%"},
		{"server just below 90%", budget(0.3, 0.89), 0.30, 100, 0, results.BoundUndecided, "neither at its limit"},
		{"client at 70%", budget(0.3, 0.98), 0.70, 100, 0, results.BoundUndecided, "but client at 70%"},
		{"client at 90%", budget(0.3, 0.98), 0.90, 100, 0, results.BoundClient, "client at 90% of its cores"},
		{"client saturated, server idle", budget(0.3, 0.40), 0.99, 100, 0, results.BoundClient, "client at 99%"},
		{"link at its rate", budget(0.3, 0.50), 0.20, 95, 100, results.BoundNetwork, "link at 95% of its 100 Mbit/s rate"},
		{"link below its rate", budget(0.3, 0.95), 0.20, 85, 100, results.BoundServer, "server at 95%"},
		{"client before link", budget(0.3, 0.50), 0.95, 99, 100, results.BoundClient, "client at 95%"},
		{"no quota", budget(1, 0.96), 0.50, 100, 0, results.BoundServer, "server at 96% of its CPUs (no quota)"},
		{"unbudgeted", budget(0, 0.93), 0.50, 100, 0, results.BoundServer, "of its CPUs (unbudgeted)"},
		{"no budget section", nil, 0.50, 100, 0, results.BoundUndecided, "no server CPU measured"},
	}
	if got := harness.BoundOf(&results.Result{Budget: budget(0.3, 0.97)}, 0); got.Verdict != results.BoundUndecided {
		t.Errorf("BoundOf(no client section): got %s (%s), want %s", got.Verdict, got.Reason, results.BoundUndecided)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &results.Result{Budget: tt.budget, BytesPerS: tt.mbit * 1e6 / 8, Client: &results.Client{CPUUtilization: tt.client}}
			got := harness.BoundOf(res, tt.rate*1e6)
			if got.Verdict != tt.want || !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("BoundOf(server %v, client %v, %v of %v Mbit/s): got %s (%s), want %s (%s)",
					tt.budget, tt.client, tt.mbit, tt.rate, got.Verdict, got.Reason, tt.want, tt.reason)
			}
		})
	}
}

// TestBoundOfDisk checks the disk verdict: a slow device busy most of the
// trial bounds a server below its budget, unless the client was busy too;
// a server at its budget stays server-bound.
func TestBoundOfDisk(t *testing.T) {
	tests := []struct {
		name         string
		use, client  float64
		busyS, durS  float64
		want, reason string
	}{
		{"sped waiting on the disk", 0.12, 0.05, 9.8, 10, results.BoundDisk, "disk busy 98% of the trial with 1.00 reads in flight"},
		{"disk busy exactly 75%", 0.40, 0.20, 7.5, 10, results.BoundDisk, "disk busy 75%"},
		{"disk busy 70%", 0.40, 0.20, 7, 10, results.BoundUndecided, "disk busy 70%"},
		{"server at its budget first", 0.95, 0.20, 10, 10, results.BoundServer, "server at 95%"},
		{"client too busy", 0.40, 0.75, 10, 10, results.BoundUndecided, "client at 75%"},
		{"no duration", 0.40, 0.20, 10, 0, results.BoundUndecided, "neither at its limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &results.Result{DurationS: tt.durS, Budget: &results.Budget{ServerCPUCores: 1, ServerUtilization: tt.use},
				Client: &results.Client{CPUUtilization: tt.client}, Disk: &results.Disk{BusyS: tt.busyS, MeanInFlight: 1}}
			got := harness.BoundOf(res, 0)
			if got.Verdict != tt.want || !strings.Contains(got.Reason, tt.reason) {
				t.Errorf("BoundOf(server %v, client %v, disk busy %vs of %vs): got %s (%s), want %s (%s)",
					tt.use, tt.client, tt.busyS, tt.durS, got.Verdict, got.Reason, tt.want, tt.reason)
			}
		})
	}
}

// TestNetnsNetworkBound serves 50 KB files over an 8 Mbit/s link between
// two namespaces: the link, not the server in its budget nor the client,
// is the bottleneck, and the point says so. The server's CPU is read from
// its cgroup across the namespace.
func TestNetnsNetworkBound(t *testing.T) {
	topologytest.NeedNetns(t)
	topo, err := topology.NewNetns("8mbit")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { topo.Close() })
	out, log := executeExperiment(t, mustParse(t, `name = "link"
description = "50 KB files over an 8 Mbit/s link"
archs = ["sped"]
[fileset]
kind = "fixed"
count = 4
size_bytes = 51200
[load]
connections = 4
requests_per_conn = 0
duration = "1s"
warmup = "200ms"
allow_saturated_client = true
`), harness.Options{Topology: topo})
	r := out.Results["sped-trial=1"]
	if r == nil || r.Bound == nil || r.Budget == nil {
		t.Fatalf("got no result with a bound and a budget:\n%s", log.String())
	}
	if r.Bound.Verdict != results.BoundNetwork {
		t.Errorf("got %s (%s), want network", r.Bound.Verdict, r.Bound.Reason)
	}
	if _, err := harness.CPUControllerVersion(); err == nil && (r.Budget.ServerCPUS <= 0 || r.Budget.CgroupVersion == 0) {
		t.Errorf("got budget %+v, want the server's CPU time from its cgroup", *r.Budget)
	}
}
