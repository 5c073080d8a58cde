package harness

import (
	"fmt"
	"os"

	"flashbench/results"
)

// DefaultServerCPU is the server's CPU budget when an experiment sets
// none: 30% of one core. The papers' testbeds had one server CPU and
// client machines that outran it; on one machine with a client core of
// its own, a server held to 0.3 of a core is the bottleneck for every
// architecture at hotos97's load (null, the cheapest, included), while the
// client stays well below its core.
const DefaultServerCPU = 0.3

// budget is the CPU budget of a run's servers.
type budget struct {
	// cores is the quota (1: none, the cgroup only accounts).
	cores float64
	// version is the cgroup version, 0 when unbudgeted.
	version int
	// off says why the servers run without a budget, "" when they have one.
	off string
}

// setBudget decides the run's budget: the load's server_cpu in a CPU
// cgroup, or none, with the reason, when this machine or topology has no
// writable CPU controller. Then the run goes on unbudgeted: one line says
// so, and every point's result is marked.
func (r *runner) setBudget() {
	r.budget = budget{cores: r.load.ServerCPU}
	if _, remote := r.o.Topology.(Remote); remote {
		r.budget.off = "the ssh topology: CPU budgets are cgroups of this machine"
		return
	}
	v, err := CPUControllerVersion()
	if err != nil {
		r.budget.off = err.Error()
		fmt.Fprintf(r.o.Log, "run: %v: the servers run without a CPU budget, every point marked unbudgeted\n", err)
		return
	}
	r.budget.version = v
}

// newCPUCgroup makes a cell's CPU cgroup, or returns nil when the run is
// unbudgeted.
func (r *runner) newCPUCgroup(idx int) (*CPUCgroup, error) {
	if r.budget.off != "" {
		return nil, nil
	}
	return NewCPUCgroup(fmt.Sprintf("%d-%d", os.Getpid(), idx), r.budget.cores)
}

// budgetOf is the result's budget section for a trial.
func (r *runner) budgetOf() *results.Budget {
	if r.budget.off != "" {
		return &results.Budget{UnbudgetedReason: r.budget.off}
	}
	b := &results.Budget{ServerCPUCores: r.budget.cores, CgroupVersion: r.budget.version}
	if r.budget.cores < 1 {
		b.PeriodUS = CPUPeriod.Microseconds()
	}
	return b
}
