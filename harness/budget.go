package harness

import (
	"fmt"
	"math"
	"os"
	"time"

	"flashbench/harness/topology"
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
// cgroup per server, or none, with the reason, when this machine or
// topology has no writable CPU controller. Then the run goes on
// unbudgeted: one line says so, and every point's result is marked. With
// a budget, the cgroups runs that were killed left are swept first.
func (r *runner) setBudget() error {
	if c := r.o.ServerCPU; c != 0 && !(c >= MinServerCPU && c <= 1) {
		return fmt.Errorf("run: server CPU budget %v, want %v..1 (cores; 1: no quota)", c, MinServerCPU)
	}
	r.budget = budget{cores: r.load.ServerCPU}
	if _, remote := r.o.Topology.(topology.Remote); remote {
		r.budget.off = "the ssh topology: CPU budgets are cgroups of this machine"
		return nil
	}
	v, err := CPUControllerVersion()
	if err != nil {
		r.budget.off = err.Error()
		fmt.Fprintf(r.o.Log, "run: %v: the servers run without a CPU budget, every point marked unbudgeted\n", err)
		return nil
	}
	r.budget.version = v
	if _, err := SweepCgroups(); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	return nil
}

// newCPUCgroup makes a cell's CPU cgroup, without a quota when noQuota,
// or returns nil when the run is unbudgeted.
func (r *runner) newCPUCgroup(idx int, noQuota bool) (*CPUCgroup, error) {
	if r.budget.off != "" {
		return nil, nil
	}
	cores := r.budget.cores
	if noQuota {
		cores = 1
	}
	return NewCPUCgroup(fmt.Sprintf("%d-%d", os.Getpid(), idx), cores)
}

// budgetOf is a trial's budget section: the budget, and what the server
// used of it, from the samples of its CPU cgroup (when unbudgeted, from
// the /proc usage setUsage put in res.Server). The CPU time and the CPU
// per request are over the client's whole window (res.started_at for
// res.duration_s), as its request count is; the use of the budget is over
// the configured duration only, while the client kept every connection
// busy: in the drain after it, fewer and fewer requests are in flight, and
// a server with slow requests (forking's) would look idle for a while at
// the end of a window it was bound in.
func (r *runner) budgetOf(res *results.Result, samples []cpuSample) *results.Budget {
	b := &results.Budget{UnbudgetedReason: r.budget.off}
	capacity := float64(len(r.o.Topology.Pinning().ServerCPUs))
	steady, steadyCPU := res.DurationS, 0.0
	if d := res.Config.DurationS; d > 0 && d < steady {
		steady = d
	}
	at := func(s float64) time.Time { return res.StartedAt.Add(time.Duration(s * float64(time.Second))) }
	if r.budget.off == "" {
		b.ServerCPUCores, b.CgroupVersion = r.budget.cores, r.budget.version
		if r.budget.cores < 1 {
			b.PeriodUS, capacity = CPUPeriod.Microseconds(), r.budget.cores
		}
		if a, ok := windowAccount(samples, res.StartedAt, at(res.DurationS)); ok {
			b.ServerCPUS, b.ThrottledS = a.Usage.Seconds(), a.ThrottledTime.Seconds()
			b.Periods, b.ThrottledPeriods = a.Periods, min(a.Throttled, a.Periods)
		}
		if a, ok := windowAccount(samples, res.StartedAt, at(steady)); ok {
			steadyCPU = a.Usage.Seconds()
		}
	} else {
		// /proc was read before and after the trial only.
		if u, sys := res.Server.CPUUserS, res.Server.CPUSystemS; u != nil && sys != nil {
			b.ServerCPUS = *u + *sys
		}
		steady, steadyCPU = res.DurationS, b.ServerCPUS
	}
	if res.RequestsTotal > 0 {
		b.ServerCPUPerRequestUS = b.ServerCPUS * 1e6 / float64(res.RequestsTotal)
	}
	if steady > 0 && capacity > 0 {
		b.ServerUtilization = steadyCPU / (capacity * steady)
	}
	return b
}

// cpuSampleEvery is how often a trial reads its server's CPU cgroup: the
// usage in the client's measurement window is interpolated between reads.
const cpuSampleEvery = 50 * time.Millisecond

// cpuSample is a CPU cgroup's counters at one moment.
type cpuSample struct {
	at time.Time
	a  CPUAccount
}

// cpuSampler reads a CPU cgroup's counters while a trial runs.
type cpuSampler struct {
	cg      *CPUCgroup
	stopc   chan struct{}
	done    chan struct{}
	samples []cpuSample
}

// startCPUSampler starts reading cg (nil: an unbudgeted run, nothing to
// read) now and every cpuSampleEvery.
func startCPUSampler(cg *CPUCgroup) *cpuSampler {
	s := &cpuSampler{cg: cg, stopc: make(chan struct{}), done: make(chan struct{})}
	if cg == nil {
		close(s.done)
		return s
	}
	s.take()
	go func() {
		defer close(s.done)
		every(cpuSampleEvery, s.stopc, s.take)
	}()
	return s
}

func (s *cpuSampler) take() {
	if a, err := s.cg.Account(); err == nil {
		s.samples = append(s.samples, cpuSample{at: time.Now(), a: a})
	}
}

// stop takes a last reading and returns them all, in time order.
func (s *cpuSampler) stop() []cpuSample {
	if s.cg == nil {
		return nil
	}
	close(s.stopc)
	<-s.done
	s.take()
	return s.samples
}

// windowAccount returns what the counters grew by from from to to,
// interpolated linearly between the samples around each end (clamped to
// the first and last), or false with fewer than two samples.
func windowAccount(samples []cpuSample, from, to time.Time) (CPUAccount, bool) {
	if len(samples) < 2 || !to.After(from) {
		return CPUAccount{}, false
	}
	a, b := accountAt(samples, from), accountAt(samples, to)
	return CPUAccount{Usage: time.Duration(b[0] - a[0]), Periods: int64(math.Round(b[1] - a[1])),
		Throttled: int64(math.Round(b[2] - a[2])), ThrottledTime: time.Duration(b[3] - a[3])}, true
}

// accountAt interpolates the counters (usage, periods, throttled periods,
// throttled time) at t.
func accountAt(samples []cpuSample, t time.Time) [4]float64 {
	vec := func(a CPUAccount) [4]float64 {
		return [4]float64{float64(a.Usage), float64(a.Periods), float64(a.Throttled), float64(a.ThrottledTime)}
	}
	if !t.After(samples[0].at) {
		return vec(samples[0].a)
	}
	for i := 1; i < len(samples); i++ {
		if s0, s1 := samples[i-1], samples[i]; !t.After(s1.at) {
			f := float64(t.Sub(s0.at)) / float64(s1.at.Sub(s0.at))
			v0, v1 := vec(s0.a), vec(s1.a)
			for k := range v0 {
				v0[k] += f * (v1[k] - v0[k])
			}
			return v0
		}
	}
	return vec(samples[len(samples)-1].a)
}
