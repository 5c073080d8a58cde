package provenance

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"flashbench/results"
)

// Machine returns what any program can tell of the machine it runs on:
// its Go version, online CPUs, host name, kernel release and CPU model.
// The harness adds the build, pinning, topology and sysctls.
func Machine() results.Provenance {
	p := results.Provenance{GoVersion: runtime.Version(), CPUs: runtime.NumCPU()}
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
	return p
}

// toolTimeout bounds a program's -v.
const toolTimeout = 10 * time.Second

// ToolVersion runs `prog -v`, as nginx, apache2 and lighttpd print their
// version, and returns the first line it prints ("nginx version:
// nginx/1.22.1"; nginx prints it on stderr, the others on stdout).
func ToolVersion(prog string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, prog, "-v").CombinedOutput()
	line := firstLine(string(out))
	switch {
	case err != nil && line != "":
		return "", fmt.Errorf("provenance: %s -v: %w: %s", prog, err, line)
	case err != nil:
		return "", fmt.Errorf("provenance: %s -v: %w", prog, err)
	case line == "":
		return "", fmt.Errorf("provenance: %s -v: printed nothing", prog)
	}
	return line, nil
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// SysctlNames are the kernel settings that change what a web benchmark
// measures; every harness and soak document records them.
var SysctlNames = []string{
	"net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_tw_reuse",
	"net.ipv4.ip_local_port_range", "net.ipv4.tcp_fin_timeout", "net.core.rmem_max",
	"net.core.wmem_max", "fs.file-max", "fs.nr_open", "vm.swappiness", "kernel.sched_autogroup_enabled",
}

// Sysctls reads SysctlNames from /proc/sys, each value's fields joined by
// one space; a setting this kernel lacks is left out.
func Sysctls() results.Map[string] {
	m := results.Map[string]{}
	for _, s := range SysctlNames {
		b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(s, ".", "/"))
		if err == nil {
			m[s] = strings.Join(strings.Fields(string(b)), " ")
		}
	}
	return m
}
