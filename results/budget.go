package results

import "slices"

// Budget is the server's CPU budget during a harness run and what the
// server used of it in the measurement window (started_at to started_at +
// duration_s): a cgroup CPU quota on the server's whole process tree, so
// that the server, not the client, bounds throughput, as on the papers'
// testbeds. Optional (added within version 1): tools outside the harness
// leave it out.
type Budget struct {
	// ServerCPUCores is the quota in cores (0.3: 30% of one core); 1 means
	// no quota (the cgroup only accounts); 0 means the server ran without
	// a budget, UnbudgetedReason says why.
	ServerCPUCores float64 `json:"server_cpu_cores"`
	// PeriodUS is the quota's period; 0 without a quota.
	PeriodUS int64 `json:"period_us"`
	// CgroupVersion is 1 or 2; 0 when unbudgeted.
	CgroupVersion int `json:"cgroup_version"`
	// UnbudgetedReason says in one line why there was no budget (no
	// writable CPU controller, the ssh topology). Optional; only when
	// server_cpu_cores is 0.
	UnbudgetedReason string `json:"unbudgeted_reason,omitempty"`
	// ServerCPUS is the server tree's CPU time in the window: from the
	// cgroup's usage counter, which includes helpers, forked children and
	// CGI programs that came and went; when unbudgeted, from /proc (the
	// live processes and their reaped children, before and after).
	ServerCPUS float64 `json:"server_cpu_s"`
	// ServerCPUPerRequestUS is ServerCPUS per completed request: the
	// server's cost, which does not depend on the client.
	ServerCPUPerRequestUS float64 `json:"server_cpu_per_request_us"`
	// ServerUtilization is the server's CPU time over what the budget
	// allowed (server_cpu_cores; one core per server CPU without a quota)
	// while the client kept its connections busy: from started_at for
	// config.duration_s, the drain after it left out (when unbudgeted,
	// ServerCPUS over duration_s). About 1 when the server used all of
	// its budget; it may pass 1 by a little, the window's ends being
	// interpolated.
	ServerUtilization float64 `json:"server_utilization"`
	// Periods counts the quota periods in which the server ran,
	// ThrottledPeriods those that ended with it throttled, ThrottledS the
	// time it spent throttled. Zero without a quota.
	Periods          int64   `json:"periods"`
	ThrottledPeriods int64   `json:"throttled_periods"`
	ThrottledS       float64 `json:"throttled_s"`
}

// Bound verdicts: what bounded a point's throughput.
const (
	// BoundServer: the server used at least 90% of its budget and the
	// client less than 70% of its cores. Only such points answer the
	// papers' questions.
	BoundServer = "server"
	// BoundClient: the client used at least 90% of its cores.
	BoundClient = "client"
	// BoundNetwork: the link carried at least 90% of its tbf rate.
	BoundNetwork = "network"
	// BoundDisk: the slow storage device of a disk-bound experiment had a
	// read in flight at least 75% of the time, the server used less than
	// 90% of its budget and the client less than 70% of its cores: the
	// server waited on the disk. Such points answer the papers'
	// disk-bound questions.
	BoundDisk = "disk"
	// BoundUndecided: none of the above.
	BoundUndecided = "undecided"
)

// BoundVerdicts are the verdicts a Bound may hold.
var BoundVerdicts = []string{BoundServer, BoundDisk, BoundClient, BoundNetwork, BoundUndecided}

// Bound is what bounded a point's throughput, by the harness's rules, and
// the figures that decided it. Optional (added within version 1).
type Bound struct {
	Verdict string `json:"verdict"`
	// Reason gives the figures in one line: "server at 97% of its
	// 0.3-core budget, client at 41%".
	Reason string `json:"reason"`
}

func (c *checker) budget(b *Budget) {
	c.nonNegative("budget.server_cpu_cores", b.ServerCPUCores)
	if b.ServerCPUCores > 1 {
		c.fail("budget.server_cpu_cores: %v is above 1", b.ServerCPUCores)
	}
	c.count("budget.period_us", b.PeriodUS)
	if b.CgroupVersion < 0 || b.CgroupVersion > 2 {
		c.fail("budget.cgroup_version: %d, want 0, 1 or 2", b.CgroupVersion)
	}
	if b.UnbudgetedReason != "" && b.ServerCPUCores != 0 {
		c.fail("budget.unbudgeted_reason: set, but server_cpu_cores is %v", b.ServerCPUCores)
	}
	c.nonNegative("budget.server_cpu_s", b.ServerCPUS)
	c.nonNegative("budget.server_cpu_per_request_us", b.ServerCPUPerRequestUS)
	c.nonNegative("budget.server_utilization", b.ServerUtilization)
	c.count("budget.periods", b.Periods)
	c.count("budget.throttled_periods", b.ThrottledPeriods)
	if b.ThrottledPeriods > b.Periods {
		c.fail("budget.throttled_periods: %d, more than the %d periods", b.ThrottledPeriods, b.Periods)
	}
	c.nonNegative("budget.throttled_s", b.ThrottledS)
}

func (c *checker) bound(b *Bound) {
	if !slices.Contains(BoundVerdicts, b.Verdict) {
		c.fail("bound.verdict: %q, want server, disk, client, network or undecided", b.Verdict)
	}
	if b.Reason == "" {
		c.fail("bound.reason: empty")
	}
}
