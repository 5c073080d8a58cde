package results

// Budget is the server's CPU budget during a harness run: a cgroup CPU
// quota on the server's whole process tree, so that the server, not the
// client, bounds throughput, as on the papers' testbeds. Optional (added within version 1): tools outside the harness
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
}
