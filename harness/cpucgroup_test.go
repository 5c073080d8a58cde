package harness_test

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"flashbench/harness"
	"flashbench/harness/topology"
)

// newCPUCgroup makes a CPU cgroup for a test, removed when it ends; it
// skips when the machine has no writable CPU controller.
func newCPUCgroup(t *testing.T, name string, cores float64) *harness.CPUCgroup {
	t.Helper()
	if _, err := harness.CPUControllerVersion(); err != nil {
		t.Skip(err) // not root, or no CPU controller
	}
	cg, err := harness.NewCPUCgroup(name, cores)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cg.Remove() })
	return cg
}

// TestCPUCgroupHoldsTheTree starts a process tree that wants two cores (a
// spinning process and its spinning child) in a 0.2-core budget on the
// server's CPU: over a second, the cgroup must account 0.15 to 0.25 s of
// CPU, in about a hundred 10 ms periods, most of them throttled, even
// with other tasks wanting that CPU (a shared machine: the weight).
func TestCPUCgroupHoldsTheTree(t *testing.T) {
	cg := newCPUCgroup(t, "test-"+strconv.Itoa(os.Getpid()), 0.2)
	topo, err := topology.NewLocal()
	if err != nil {
		t.Skip(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	p, err := topo.StartServer(topology.Command{Path: os.Args[0], Env: []string{"FLASHBENCH_HARNESS_HELPER=spintree"}, Stdout: pw, CgroupProcs: cg.ProcsFiles()})
	pw.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill(); <-p.Done() })
	if line, _ := bufio.NewReader(pr).ReadString('\n'); line != "ready\n" {
		t.Fatalf("spintree: got %q, want ready", line)
	}
	procs, err := cg.Procs()
	if err != nil || len(procs) != 2 || !slices.Contains(procs, p.PID()) {
		t.Fatalf("cgroup.procs: got %v, %v; want the spinner %d and its child", procs, err, p.PID())
	}
	a0, err := cg.Account()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	time.Sleep(time.Second)
	a1, err := cg.Account()
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Since(t0)
	used := (a1.Usage - a0.Usage).Seconds() / wall.Seconds()
	if used < 0.15 || used > 0.25 {
		t.Errorf("got %.3f s of CPU per second in a 0.2-core budget, want 0.15..0.25", used)
	}
	periods, throttled := a1.Periods-a0.Periods, a1.Throttled-a0.Throttled
	if periods < 50 || periods > 110 || throttled < periods/2 {
		t.Errorf("got %d periods, %d throttled in %v; want about 100 (10 ms), most throttled", periods, throttled, wall)
	}
}

// TestCPUCgroupQuota checks the quota and weight each budget writes, in
// the files of the machine's cgroup version.
func TestCPUCgroupQuota(t *testing.T) {
	for _, tt := range []struct {
		cores          float64
		v1, v2         string
		shares, weight string
		wantError      bool
	}{
		{cores: 0.3, v1: "3000", v2: "3000 10000", shares: "262144", weight: "10000"},
		{cores: 0.1, v1: "1000", v2: "1000 10000", shares: "262144", weight: "10000"},
		{cores: 1, v1: "-1", v2: "max 10000", shares: "1024", weight: "100"},
		{cores: 0.05, wantError: true},
		{cores: 1.5, wantError: true},
		{cores: 0, wantError: true},
	} {
		t.Run(strconv.FormatFloat(tt.cores, 'g', -1, 64), func(t *testing.T) {
			name := "quota-" + strconv.Itoa(os.Getpid())
			if tt.wantError {
				if _, err := harness.CPUControllerVersion(); err != nil {
					t.Skip(err)
				}
				cg, err := harness.NewCPUCgroup(name, tt.cores)
				if err == nil {
					cg.Remove()
					t.Fatalf("NewCPUCgroup(%v): got nil error, want one", tt.cores)
				}
				return
			}
			cg := newCPUCgroup(t, name, tt.cores)
			file, want := filepath.Join(cg.Dir, "cpu.max"), tt.v2
			weightFile, weight := filepath.Join(cg.Dir, "cpu.weight"), tt.weight
			if cg.Version == 1 {
				file, want = filepath.Join(cg.Dir, "cpu.cfs_quota_us"), tt.v1
				weightFile, weight = filepath.Join(cg.Dir, "cpu.shares"), tt.shares
				if b, _ := os.ReadFile(filepath.Join(cg.Dir, "cpu.cfs_period_us")); strings.TrimSpace(string(b)) != "10000" {
					t.Errorf("cpu.cfs_period_us: got %q, want 10000", b)
				}
			}
			if b, _ := os.ReadFile(file); strings.TrimSpace(string(b)) != want {
				t.Errorf("%s: got %q, want %q", file, b, want)
			}
			if b, _ := os.ReadFile(weightFile); strings.TrimSpace(string(b)) != weight {
				t.Errorf("%s: got %q, want %q", weightFile, b, weight)
			}
			if err := cg.Remove(); err != nil {
				t.Fatal(err)
			}
			for _, f := range cg.ProcsFiles() {
				if _, err := os.Stat(filepath.Dir(f)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("after Remove: stat %s: got %v, want not exist", filepath.Dir(f), err)
				}
			}
		})
	}
}

// TestNoCPUController points the cgroup root at an empty directory: no
// controller there, one line says why.
func TestNoCPUController(t *testing.T) {
	defer func(old string) { harness.CgroupRoot = old }(harness.CgroupRoot)
	harness.CgroupRoot = t.TempDir()
	if v, err := harness.CPUControllerVersion(); err == nil || !strings.Contains(err.Error(), "no CPU controller") || strings.Contains(err.Error(), "\n") {
		t.Errorf("CPUControllerVersion: got %d, %v; want one line saying there is no CPU controller", v, err)
	}
	if cg, err := harness.NewCPUCgroup("none", 0.3); err == nil {
		cg.Remove()
		t.Errorf("NewCPUCgroup: got nil error, want one")
	}
}

// TestSweepCPUCgroups checks that the CPU cgroup of a harness process that
// no longer exists is removed from every hierarchy it was made in.
func TestSweepCPUCgroups(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	cg := newCPUCgroup(t, strconv.Itoa(dead.Process.Pid)+"-0", 0.5)
	removed, err := harness.SweepCgroups()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range cg.ProcsFiles() {
		dir := filepath.Dir(f)
		if !slices.Contains(removed, dir) {
			t.Errorf("got removed %v, want %s among them", removed, dir)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stat %s: got %v, want not exist", dir, err)
		}
	}
}

// TestExecuteUnbudgeted runs an experiment on a machine without a CPU
// controller (the cgroup root pointed at an empty directory): one line
// says so, the run goes on, and every point is marked unbudgeted.
func TestExecuteUnbudgeted(t *testing.T) {
	defer func(old string) { harness.CgroupRoot = old }(harness.CgroupRoot)
	harness.CgroupRoot = t.TempDir()
	out, log := execute(t, "quick")
	if n := strings.Count(log.String(), "without a CPU budget"); n != 1 {
		t.Errorf("got %d lines saying the run is unbudgeted, want 1:\n%s", n, log)
	}
	ok := 0
	for _, p := range out.Index.Points {
		if p.Status != harness.StatusOK {
			continue
		}
		ok++
		b := out.Results[p.ID].Budget
		if b == nil || b.ServerCPUCores != 0 || b.CgroupVersion != 0 || !strings.Contains(b.UnbudgetedReason, "no CPU controller") {
			t.Errorf("point %s: got budget %+v, want 0 cores, no cgroup, the reason", p.ID, b)
		}
	}
	if ok == 0 {
		t.Errorf("got no measured point, want the run to go on unbudgeted:\n%s", log)
	}
	var sum strings.Builder
	if err := harness.WriteSummary(&sum, quickExperiment(t), out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sum.String(), "*unbudgeted") || !strings.Contains(sum.String(), "unbudgeted: cgroup: no CPU controller") {
		t.Errorf("summary does not mark the points unbudgeted:\n%s", sum.String())
	}
}

// TestExecuteAtBudget runs forking held to a tenth of a core against
// eight connections of one request each, far more than it can serve (and
// so little for the client that a loaded machine cannot starve it): the
// result must show the server at its budget, measured by its cgroup over
// the client's window. forking's parent only accepts: its budget is spent
// by a process per connection, each gone a moment later, which the
// cgroup's usage counts.
func TestExecuteAtBudget(t *testing.T) {
	if _, err := harness.CPUControllerVersion(); err != nil {
		t.Skip(err)
	}
	out, log := executeExperiment(t, mustParse(t, `name = "atbudget"
description = "forking at a tenth of a core"
archs = ["forking"]
[fileset]
kind = "fixed"
count = 4
size_bytes = 500
[load]
connections = 8
requests_per_conn = 1
duration = "1s"
warmup = "200ms"
server_cpu = 0.1
allow_saturated_client = true
`), harness.Options{})
	r := out.Results["forking-trial=1"]
	if r == nil || r.Budget == nil {
		t.Fatalf("got no result with a budget:\n%s", log.String())
	}
	b := r.Budget
	if b.ServerCPUCores != 0.1 || b.ServerUtilization < 0.8 || b.ServerUtilization > 1.1 {
		t.Errorf("got %v cores used at %.2f (%.3f s in %.2f s; client at %.0f%%, %d requests, series %+v), want 0.1 used at 0.8..1.1",
			b.ServerCPUCores, b.ServerUtilization, b.ServerCPUS, r.DurationS, 100*r.Client.CPUUtilization, r.RequestsTotal, r.Series)
	}
	if b.Periods < 50 || b.ThrottledPeriods < b.Periods/2 || b.ThrottledS <= 0 {
		t.Errorf("got %d periods, %d throttled (%.3f s); want about 100 a second, most throttled", b.Periods, b.ThrottledPeriods, b.ThrottledS)
	}
	if want := b.ServerCPUS * 1e6 / float64(r.RequestsTotal); r.RequestsTotal == 0 || b.ServerCPUPerRequestUS != want {
		t.Errorf("got %.1f µs per request for %d requests, want %.1f", b.ServerCPUPerRequestUS, r.RequestsTotal, want)
	}
}
