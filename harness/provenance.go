package harness

import (
	"os"
	"os/exec"
	"runtime"
	"strings"

	"flashbench/results"
)

// Sysctls are the kernel settings that change what a web benchmark
// measures; every result records them.
var Sysctls = []string{
	"net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_tw_reuse",
	"net.ipv4.ip_local_port_range", "net.ipv4.tcp_fin_timeout", "net.core.rmem_max",
	"net.core.wmem_max", "fs.file-max", "fs.nr_open", "vm.swappiness", "kernel.sched_autogroup_enabled",
}

// Provenance describes this machine and build for the result documents.
func Provenance(topo Topology) results.Provenance {
	p := results.Provenance{
		GitCommit: gitCommit(), GoVersion: runtime.Version(), CPUs: runtime.NumCPU(),
		CorePinning: topo.Pinning(), Topology: topo.Name(), Sysctls: results.Map[string]{},
	}
	p.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		p.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				p.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	for _, s := range Sysctls {
		b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(s, ".", "/"))
		if err == nil {
			p.Sysctls[s] = strings.Join(strings.Fields(string(b)), " ")
		}
	}
	return p
}

// gitCommit is the checkout's HEAD, with "-dirty" for uncommitted
// changes, or "unknown" outside a checkout.
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += "-dirty"
	}
	return c
}
