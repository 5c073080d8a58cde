package topology

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"flashbench/results"
)

// netnsDir is where ip-netns(8) keeps its named namespaces.
const netnsDir = "/run/netns"

// The netns topology's link: a /30 of BenchNet, server first.
var (
	netnsServerPrefix = netip.MustParsePrefix("198.18.0.1/30")
	netnsClientPrefix = netip.MustParsePrefix("198.18.0.2/30")
)

var (
	netnsNameRE = regexp.MustCompile(`^fb-([0-9]+)-`)
	rateRE      = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?[kmgt]?(bit|bps)$`)
)

// Netns is the netns topology: two hosts on one machine. The server and
// the client each run in a network namespace of their own (fb-PID-srv and
// fb-PID-cli), joined by a veth pair with addresses from BenchNet and
// optionally rate-limited on both ends with a token bucket (tbf), as the
// papers' 100 Mbit/s Ethernet. They are pinned to their CPUs as in Local.
type Netns struct {
	ServerCPUs, ClientCPUs []int
	// ServerNS and ClientNS are the namespaces' names.
	ServerNS, ClientNS string
	// Rate is the tbf rate of each end ("" for none).
	Rate        string
	ip, taskset string
}

// NewNetns sets up the namespaces, the veth pair and, when rate is not
// empty (e.g. "100mbit"), the rate limit. Namespaces that runs of the
// harness no longer alive left behind are removed first. It needs root;
// call Close in any case once done, also after an error.
func NewNetns(rate string) (*Netns, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("netns topology: needs root to create network namespaces")
	}
	if rate != "" && !rateRE.MatchString(rate) {
		return nil, fmt.Errorf("netns topology: rate %q: want a tc rate such as 100mbit", rate)
	}
	n := &Netns{ServerCPUs: []int{0}, ClientCPUs: []int{1}, Rate: rate,
		ServerNS: fmt.Sprintf("fb-%d-srv", os.Getpid()), ClientNS: fmt.Sprintf("fb-%d-cli", os.Getpid())}
	if runtime.NumCPU() < 2 {
		n.ClientCPUs = []int{0}
	}
	var err error
	if n.ip, err = exec.LookPath("ip"); err != nil {
		return nil, errors.New("netns topology: ip not found (apt-get install iproute2)")
	}
	if n.taskset, err = exec.LookPath("taskset"); err != nil {
		return nil, errors.New("netns topology: taskset not found (apt-get install util-linux)")
	}
	if _, err := SweepNetns(); err != nil {
		return nil, err
	}
	if err := n.setup(); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// setup creates the namespaces and the link between them.
func (n *Netns) setup() error {
	srvIf, cliIf := fmt.Sprintf("fb%ds", os.Getpid()), fmt.Sprintf("fb%dc", os.Getpid())
	steps := [][]string{
		{"netns", "add", n.ServerNS},
		{"netns", "add", n.ClientNS},
		{"link", "add", srvIf, "netns", n.ServerNS, "type", "veth", "peer", "name", cliIf, "netns", n.ClientNS},
	}
	for _, side := range []struct{ ns, dev, addr string }{
		{n.ServerNS, srvIf, netnsServerPrefix.String()}, {n.ClientNS, cliIf, netnsClientPrefix.String()},
	} {
		steps = append(steps,
			[]string{"-n", side.ns, "link", "set", "lo", "up"},
			[]string{"-n", side.ns, "addr", "add", side.addr, "dev", side.dev},
			[]string{"-n", side.ns, "link", "set", side.dev, "up"})
		if n.Rate != "" {
			steps = append(steps, []string{"netns", "exec", side.ns, "tc", "qdisc", "add", "dev", side.dev,
				"root", "tbf", "rate", n.Rate, "burst", "32kbit", "latency", "400ms"})
		}
	}
	for _, s := range steps {
		if out, err := exec.Command(n.ip, s...).CombinedOutput(); err != nil {
			return fmt.Errorf("netns topology: ip %s: %w: %s", strings.Join(s, " "), err, strings.TrimSpace(string(out)))
		}
	}
	return nil
}

// SweepNetns deletes the namespaces named fb-PID-* whose harness process
// PID no longer exists (left by a run that was killed), and returns their
// names.
func SweepNetns() ([]string, error) {
	ents, err := os.ReadDir(netnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("netns sweep: %w", err)
	}
	var removed []string
	for _, e := range ents {
		m := netnsNameRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || pid == os.Getpid() || !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			continue
		}
		if out, err := exec.Command("ip", "netns", "del", e.Name()).CombinedOutput(); err != nil {
			return removed, fmt.Errorf("netns sweep: ip netns del %s: %w: %s", e.Name(), err, strings.TrimSpace(string(out)))
		}
		removed = append(removed, e.Name())
	}
	return removed, nil
}

// Name implements Topology.
func (n *Netns) Name() string { return results.TopologyNetns }

// ServerAddr implements Topology.
func (n *Netns) ServerAddr() netip.Addr { return netnsServerPrefix.Addr() }

// ClientAddr is the client namespace's address.
func (n *Netns) ClientAddr() netip.Addr { return netnsClientPrefix.Addr() }

// Pinning implements Topology.
func (n *Netns) Pinning() results.CorePinning {
	return results.CorePinning{ServerCPUs: n.ServerCPUs, ClientCPUs: n.ClientCPUs}
}

// StartServer implements Topology: ip netns exec execs taskset, which
// execs the server, so the process keeps the PID the harness started.
func (n *Netns) StartServer(cmd Command) (Process, error) {
	return startPinned([]string{n.ip, "netns", "exec", n.ServerNS}, n.taskset, cmd, n.ServerCPUs,
		&syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL})
}

// StartClient implements Topology.
func (n *Netns) StartClient(cmd Command) (Process, error) {
	return startPinned([]string{n.ip, "netns", "exec", n.ClientNS}, n.taskset, cmd, n.ClientCPUs,
		&syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL})
}

// Close implements Topology: it deletes both namespaces, and with them the
// veth pair and its queueing disciplines. It may be called more than once.
func (n *Netns) Close() error {
	var errs []error
	for _, ns := range []string{n.ServerNS, n.ClientNS} {
		if _, err := os.Stat(filepath.Join(netnsDir, ns)); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("netns topology: ip netns del %s: %w: %s", ns, err, strings.TrimSpace(string(out))))
		}
	}
	return errors.Join(errs...)
}

// DialContext implements Dialer: the connection is made from the client
// namespace.
func (n *Netns) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	var c net.Conn
	err := inNetns(n.ClientNS, func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, address)
		return err
	})
	return c, err
}

// FreePort implements PortPicker, in the server namespace.
func (n *Netns) FreePort() (uint16, error) {
	var port uint16
	err := inNetns(n.ServerNS, func() error {
		var err error
		port, err = freePort(n.ServerAddr())
		return err
	})
	return port, err
}

// inNetns runs fn on an OS thread moved into the named namespace, and
// moves the thread back after. Sockets belong to the namespace of the
// thread that created them, so what fn opens stays there. The thread must
// come back rather than end with its goroutine: a child started from it
// with Pdeathsig (every server and client) would be killed by its end.
func inNetns(name string, fn func() error) error {
	runtime.LockOSThread()
	home, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns %s: %w", name, err)
	}
	defer home.Close()
	f, err := os.Open(filepath.Join(netnsDir, name))
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns %s: %w", name, err)
	}
	defer f.Close()
	if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns %s: %w", name, os.NewSyscallError("setns", err))
	}
	err = fn()
	if rerr := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); rerr != nil {
		// Stranded in the namespace: stay locked, so that the thread ends
		// with the goroutine and nothing else runs there.
		return errors.Join(err, fmt.Errorf("netns %s: return: %w", name, os.NewSyscallError("setns", rerr)))
	}
	runtime.UnlockOSThread()
	return err
}
