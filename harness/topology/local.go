package topology

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"flashbench/results"
)

// Local is the local topology: server and client on this machine, each
// pinned with taskset to its own CPUs.
type Local struct {
	ServerCPUs, ClientCPUs []int
	taskset                string
}

// NewLocal returns the local topology with the server on CPU 0 and the
// client on CPU 1 (both on CPU 0 on a single-CPU machine).
func NewLocal() (*Local, error) {
	ts, err := exec.LookPath("taskset")
	if err != nil {
		return nil, errors.New("local topology: taskset not found (apt-get install util-linux)")
	}
	l := &Local{ServerCPUs: []int{0}, ClientCPUs: []int{1}, taskset: ts}
	if runtime.NumCPU() < 2 {
		l.ClientCPUs = []int{0}
	}
	return l, nil
}

// Name implements Topology.
func (l *Local) Name() string { return results.TopologyLocal }

// ServerAddr implements Topology.
func (l *Local) ServerAddr() netip.Addr { return netip.MustParseAddr("127.0.0.1") }

// Pinning implements Topology.
func (l *Local) Pinning() results.CorePinning {
	return results.CorePinning{ServerCPUs: l.ServerCPUs, ClientCPUs: l.ClientCPUs}
}

// StartServer implements Topology.
func (l *Local) StartServer(cmd Command) (Process, error) {
	return l.start(cmd, l.ServerCPUs, &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL})
}

// StartClient implements Topology.
func (l *Local) StartClient(cmd Command) (Process, error) {
	return l.start(cmd, l.ClientCPUs, &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL})
}

// Close implements Topology; the local topology sets nothing up.
func (l *Local) Close() error { return nil }

func (l *Local) start(cmd Command, cpus []int, attr *syscall.SysProcAttr) (Process, error) {
	return StartPinned(l.taskset, cmd, cpus, attr)
}

// StartPinned starts cmd on this machine under taskset (its path) on cpus,
// with attr: for the harness's own helpers that are neither the server
// nor the client, such as the slow device model.
func StartPinned(taskset string, cmd Command, cpus []int, attr *syscall.SysProcAttr) (Process, error) {
	return startPinned(nil, taskset, cmd, cpus, attr)
}

// startPinned starts cmd on this machine under taskset on cpus, after the
// words of prefix (e.g. ip netns exec NAME), which must exec the rest so
// that the process keeps its PID.
func startPinned(prefix []string, taskset string, cmd Command, cpus []int, attr *syscall.SysProcAttr) (Process, error) {
	var argv []string
	if files := cmd.CgroupProcs; len(files) > 0 {
		// The shell joins the cgroups (one per hierarchy on v1), then
		// becomes the rest: same PID, and nothing the server reads or
		// runs escapes the cgroups' bounds and accounting. It comes
		// before prefix: ip netns exec mounts a /sys of its own, without
		// the cgroup file systems.
		argv = append([]string{"/bin/sh", "-c", `while [ "$1" != -- ]; do echo $$ > "$1" || exit 1; shift; done; shift; exec "$@"`, "sh"}, files...)
		argv = append(argv, "--")
	}
	argv = append(append(argv, prefix...), taskset, "-c", cpuList(cpus), cmd.Path)
	argv = append(argv, cmd.Args...)
	c := exec.Command(argv[0], argv[1:]...)
	c.Env = append(os.Environ(), cmd.Env...)
	c.Dir, c.Stdout, c.Stderr = cmd.Dir, cmd.Stdout, cmd.Stderr
	c.SysProcAttr = attr
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &localProcess{cmd: c, done: make(chan struct{})}
	go func() {
		p.err = c.Wait()
		close(p.done)
	}()
	return p, nil
}

func cpuList(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}

// localProcess is a process of this machine.
type localProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	once sync.Once
}

func (p *localProcess) PID() int              { return p.cmd.Process.Pid }
func (p *localProcess) Done() <-chan struct{} { return p.done }
func (p *localProcess) Usage() (Usage, error) { return TreeUsage(p.PID()) }

func (p *localProcess) Err() error {
	<-p.done
	return p.err
}

func (p *localProcess) Signal(sig os.Signal) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	return p.cmd.Process.Signal(sig)
}

// Kill kills the process group the process leads (its own session or
// group, made at start), so no worker or helper outlives it.
func (p *localProcess) Kill() error {
	err := syscall.Kill(-p.PID(), syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		err = nil
	}
	if kerr := p.cmd.Process.Kill(); err == nil && kerr != nil && !errors.Is(kerr, os.ErrProcessDone) {
		err = kerr
	}
	if err != nil {
		return os.NewSyscallError("kill", err)
	}
	return nil
}
