package provenance

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"flashbench/results"
)

// OnlineCPUs is the number of the machine's online CPUs, from
// /sys/devices/system/cpu/online ("0-1,4"), not the ones this process may
// run on: a program pinned with taskset sees one CPU through
// runtime.NumCPU, while the load average it compares with counts the
// whole machine. runtime.NumCPU stands in where sysfs cannot be read.
func OnlineCPUs() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return runtime.NumCPU()
	}
	n, err := countCPUList(strings.TrimSpace(string(b)))
	if err != nil || n == 0 {
		return runtime.NumCPU()
	}
	return n
}

// countCPUList counts the CPUs of a kernel CPU list: "0-3,8,10-11".
func countCPUList(list string) (int, error) {
	n := 0
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0, fmt.Errorf("provenance: cpu list %q: %w", list, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0, fmt.Errorf("provenance: cpu list %q: bad range %q", list, part)
			}
		}
		n += b - a + 1
	}
	return n, nil
}

// Machine returns what any program can tell of the machine it runs on:
// its Go version, online CPUs, host name, kernel release and CPU model.
// The harness adds the build, pinning, topology and sysctls.
func Machine() results.Provenance {
	p := results.Provenance{GoVersion: runtime.Version(), CPUs: OnlineCPUs()}
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

// toolTimeout bounds a program's version command.
const toolTimeout = 10 * time.Second

// ToolVersion runs prog with args, the arguments that make it print its
// version (nginx, apache2 and lighttpd take -v, mini_httpd -V, caddy
// version, h2o --version), and returns the first line it prints ("nginx
// version: nginx/1.22.1"; nginx prints it on stderr, the others on
// stdout). A server given flags it does not know may start serving and
// detach instead: prog runs in a process group of its own, killed when
// prog exits or the timeout passes, and it writes to a file rather than a
// pipe, so that a process it left behind cannot keep the call waiting.
func ToolVersion(prog string, args ...string) (string, error) {
	what := strings.Join(append([]string{prog}, args...), " ")
	out, err := os.CreateTemp("", "flashbench-version-")
	if err != nil {
		return "", fmt.Errorf("provenance: %s: %w", what, err)
	}
	os.Remove(out.Name())
	defer out.Close()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err = cmd.Start(); err == nil {
		err = cmd.Wait()
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // what it left in its group
	}
	var b []byte
	if _, serr := out.Seek(0, io.SeekStart); serr != nil && err == nil {
		err = serr
	} else if b, serr = io.ReadAll(out); serr != nil && err == nil {
		err = serr
	}
	line := firstLine(string(b))
	switch {
	case err != nil && line != "":
		return "", fmt.Errorf("provenance: %s: %w: %s", what, err, line)
	case err != nil:
		return "", fmt.Errorf("provenance: %s: %w", what, err)
	case line == "":
		return "", fmt.Errorf("provenance: %s: printed nothing", what)
	}
	return line, nil
}

// PackageVersion returns the version of an installed Debian package
// ("webfs 1.21+ds1-12+b1"), for a program that cannot print its own.
func PackageVersion(pkg string) (string, error) {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Package} ${Version}", pkg).Output()
	if err != nil {
		return "", fmt.Errorf("provenance: dpkg-query %s: %w", pkg, err)
	}
	return strings.TrimSpace(string(out)), nil
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
