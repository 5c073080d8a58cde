package harness

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"flashbench/results"
)

// Command is a program to start on one side of a topology.
type Command struct {
	Path string
	Args []string
	// Env is added to the harness's environment.
	Env []string
	// Dir is the working directory ("" for the harness's).
	Dir            string
	Stdout, Stderr io.Writer
	// Cgroup, when set, is joined by the process before the program runs,
	// so that everything it reads is charged to the cgroup from the start.
	Cgroup *Cgroup
	// CPU, when set, is joined the same way: the whole tree the program
	// starts runs under its budget and in its accounting.
	CPU *CPUCgroup
}

// procsFiles are the cgroup.procs files the process joins, each once.
func (c Command) procsFiles() []string {
	var files []string
	if c.Cgroup != nil {
		files = append(files, c.Cgroup.ProcsFile())
	}
	if c.CPU != nil {
		for _, f := range c.CPU.ProcsFiles() {
			if !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
	}
	return files
}

// Process is a program a topology started.
type Process interface {
	// PID is the process ID on the side it runs on.
	PID() int
	// Signal sends sig to the process itself (never to its group).
	Signal(sig os.Signal) error
	// Kill ends the process and every process of its group with SIGKILL.
	Kill() error
	// Done is closed when the process has exited and been reaped.
	Done() <-chan struct{}
	// Err is the process's exit error, once Done is closed.
	Err() error
	// Usage returns the CPU time and peak memory of the process and its
	// descendants so far.
	Usage() (Usage, error)
}

// Topology is where the server and the client run and how they reach each
// other. Local runs both on this machine on different cores; netns and ssh
// (two namespaces joined by a veth pair, or other machines) implement the
// same interface.
type Topology interface {
	// Name is the topology's name in results: local, netns or ssh.
	Name() string
	// ServerAddr is the address the server listens on and the client targets.
	ServerAddr() netip.Addr
	// Pinning is the server's and the client's CPUs.
	Pinning() results.CorePinning
	// StartServer starts cmd on the server side pinned to the server CPUs,
	// in a session of its own.
	StartServer(cmd Command) (Process, error)
	// StartClient starts cmd on the client side pinned to the client CPUs,
	// in a process group of its own.
	StartClient(cmd Command) (Process, error)
	// Close removes what the topology set up (namespaces, links, remote
	// directories). Processes are the runner's to stop.
	Close() error
}

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
	return startPinned(nil, l.taskset, cmd, cpus, attr)
}

// startPinned starts cmd on this machine under taskset on cpus, after the
// words of prefix (e.g. ip netns exec NAME), which must exec the rest so
// that the process keeps its PID.
func startPinned(prefix []string, taskset string, cmd Command, cpus []int, attr *syscall.SysProcAttr) (Process, error) {
	var argv []string
	if files := cmd.procsFiles(); len(files) > 0 {
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
