package topology

import (
	"io"
	"net/netip"
	"os"

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
	// CgroupProcs are the cgroup.procs files (one a cgroup, and one a
	// hierarchy on cgroup v1) the process writes its PID to before the
	// program runs, so that everything it reads is charged to its cgroups
	// from the start, and the whole tree the program starts runs under
	// their bounds (memory, a CPU budget) and in their accounting.
	CgroupProcs []string
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
