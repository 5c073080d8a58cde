package topology

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"flashbench/fileset"
	"flashbench/results"
)

// sshBinaries are the programs Install copies to every host.
var sshBinaries = []string{"webserver", "loadgen", "fileset"}

// SSHOptions configures the ssh topology.
type SSHOptions struct {
	// ServerHost runs the server; ClientHosts run one load generator each
	// (the same host may play both roles). Hosts are ssh destinations:
	// names of the ssh config, host names or addresses.
	ServerHost  string
	ClientHosts []string
	// ConfigFile is an ssh_config file (ssh -F), User the remote user
	// (ssh -l); empty for ssh's defaults.
	ConfigFile, User string
	// ServerAddr is the address the clients reach the server at; the zero
	// value means the server host's HostName, resolved.
	ServerAddr netip.Addr
}

// SSH is the ssh topology: the server on one host and the load generator
// on one or more others, driven over OpenSSH with key-based logins. One
// master connection a host (ControlMaster) carries every command. The
// binaries are copied to a temporary directory on each host, the file set
// is generated on the server host, and the clients start together; their
// results are merged losslessly (loadgen merge). A remote process is tied
// to its ssh session: when the session ends (the harness stopped or was
// killed), the process and its group are killed.
type SSH struct {
	ServerCPUs, ClientCPUs []int

	o       SSHOptions
	addr    netip.Addr
	ssh     string
	ctl     string            // local directory of the control sockets and logs
	masters []*sshMaster      // one master connection a host
	roots   map[string]string // host: its remote directory
	binDir  string
	mu      sync.Mutex
	closed  bool
}

// NewSSH connects to every host, makes a remote directory on each and
// resolves the server's address. Call Close in any case once done, also
// after an error.
func NewSSH(o SSHOptions) (*SSH, error) {
	if o.ServerHost == "" || len(o.ClientHosts) == 0 {
		return nil, errors.New("ssh topology: a server host and at least one client host required")
	}
	for _, h := range append([]string{o.ServerHost}, o.ClientHosts...) {
		if h == "" || strings.HasPrefix(h, "-") || strings.ContainsAny(h, " \t\n'\"") {
			return nil, fmt.Errorf("ssh topology: host %q: not a host name", h)
		}
	}
	s := &SSH{o: o, ServerCPUs: []int{0}, ClientCPUs: []int{1}, roots: map[string]string{}}
	var err error
	if s.ssh, err = exec.LookPath("ssh"); err != nil {
		return nil, errors.New("ssh topology: ssh not found (apt-get install openssh-client)")
	}
	if s.ctl, err = os.MkdirTemp("", "fb-ssh-"); err != nil {
		return nil, fmt.Errorf("ssh topology: %w", err)
	}
	if s.addr, err = s.resolveServer(); err != nil {
		return s, err
	}
	for _, h := range s.hosts() {
		if err := s.connect(h); err != nil {
			return s, err
		}
	}
	return s, nil
}

// hosts returns each host once, the server host first.
func (s *SSH) hosts() []string {
	out := []string{s.o.ServerHost}
	for _, h := range s.o.ClientHosts {
		if !contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// options are ssh's options for every command through the host's master.
func (s *SSH) options(master bool) []string {
	var o []string
	if s.o.ConfigFile != "" {
		o = append(o, "-F", s.o.ConfigFile)
	}
	if s.o.User != "" {
		o = append(o, "-l", s.o.User)
	}
	cm := "no"
	if master {
		cm = "yes"
	}
	return append(o, "-T", "-o", "BatchMode=yes", "-o", "ControlMaster="+cm,
		"-o", "ControlPath="+filepath.Join(s.ctl, "%C"), "-o", "ServerAliveInterval=15")
}

// command returns ssh running script on host (through its master).
func (s *SSH) command(host, script string) *exec.Cmd {
	c := exec.Command(s.ssh, append(s.options(false), host, script)...)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return c
}

// run runs script on host with stdin and returns its standard output.
func (s *SSH) run(host, script string, stdin *os.File) ([]byte, error) {
	c := s.command(host, script)
	var stderr bytes.Buffer
	c.Stdin, c.Stderr = stdin, &stderr
	out, err := c.Output()
	if err != nil {
		return out, fmt.Errorf("ssh %s: %w: %s", host, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// resolveServer returns the address the clients reach the server at.
func (s *SSH) resolveServer() (netip.Addr, error) {
	if s.o.ServerAddr.IsValid() {
		return s.o.ServerAddr.Unmap(), nil
	}
	args := append(s.options(false), "-G", s.o.ServerHost)
	out, err := exec.Command(s.ssh, args...).Output()
	if err != nil {
		return netip.Addr{}, fmt.Errorf("ssh topology: ssh -G %s: %w", s.o.ServerHost, err)
	}
	name := s.o.ServerHost
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "hostname "); ok {
			name = strings.TrimSpace(v)
		}
	}
	addr, err := netip.ParseAddr(name)
	if err != nil {
		ips, lerr := net.LookupHost(name)
		if lerr != nil || len(ips) == 0 {
			return netip.Addr{}, fmt.Errorf("ssh topology: server host %s: %v", name, lerr)
		}
		addr, _ = netip.ParseAddr(ips[0])
	}
	if addr.IsLoopback() {
		return netip.Addr{}, fmt.Errorf("ssh topology: server host %s is reached at %s (a port forward?): give the address the clients reach it at (--server-addr)",
			s.o.ServerHost, addr)
	}
	return addr.Unmap(), nil
}

// connect starts host's master connection, waits until it serves, and
// makes the host's remote directory.
func (s *SSH) connect(host string) error {
	m := exec.Command(s.ssh, append(s.options(true), "-N", host)...)
	logf, err := os.Create(filepath.Join(s.ctl, fmt.Sprintf("master%d.log", len(s.masters))))
	if err != nil {
		return fmt.Errorf("ssh topology: %w", err)
	}
	defer logf.Close()
	m.Stderr = logf // a file: no copying goroutine waits on it
	m.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := m.Start(); err != nil {
		return fmt.Errorf("ssh topology: %w", err)
	}
	master := &sshMaster{cmd: m, done: make(chan struct{})}
	s.masters = append(s.masters, master)
	go func() { m.Wait(); close(master.done) }()
	for start := time.Now(); ; {
		check := exec.Command(s.ssh, append(s.options(false), "-O", "check", host)...)
		if check.Run() == nil {
			break
		}
		select {
		case <-master.done:
			return fmt.Errorf("ssh topology: connect to %s: %s", host, tailOf(logf.Name()))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Since(start) > 30*time.Second {
			return fmt.Errorf("ssh topology: connect to %s: no connection after 30s: %s", host, tailOf(logf.Name()))
		}
	}
	out, err := s.run(host, "mktemp -d /tmp/fb-remote-XXXXXXXX && nproc", nil)
	if err != nil {
		return fmt.Errorf("ssh topology: %w", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 || !strings.HasPrefix(f[0], "/tmp/fb-remote-") {
		return fmt.Errorf("ssh topology: %s: remote directory: got %q", host, out)
	}
	s.mu.Lock()
	s.roots[host] = f[0]
	s.mu.Unlock()
	if n, _ := strconv.Atoi(f[1]); n < 2 && contains(s.o.ClientHosts, host) {
		s.ClientCPUs = []int{0}
	}
	return nil
}

// sshMaster is a host's master connection, a child of the harness.
type sshMaster struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func tailOf(name string) string {
	b, _ := os.ReadFile(name)
	return strings.TrimSpace(string(b))
}

// remotePath maps a path of this machine to host's copy.
func (s *SSH) remotePath(host, p string) string {
	return path.Join(s.roots[host], "root", filepath.ToSlash(p))
}

// mapArgs maps the absolute paths among args (alone or after --flag=).
func (s *SSH) mapArgs(host string, args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		switch {
		case strings.HasPrefix(a, "/"):
			a = s.remotePath(host, a)
		case strings.HasPrefix(a, "-") && strings.Contains(a, "=/"):
			k, v, _ := strings.Cut(a, "=")
			a = k + "=" + s.remotePath(host, v)
		}
		out[i] = a
	}
	return out
}

// Name implements Topology.
func (s *SSH) Name() string { return results.TopologySSH }

// ServerAddr implements Topology.
func (s *SSH) ServerAddr() netip.Addr { return s.addr }

// Pinning implements Topology: the CPUs on the server host and on each
// client host.
func (s *SSH) Pinning() results.CorePinning {
	return results.CorePinning{ServerCPUs: s.ServerCPUs, ClientCPUs: s.ClientCPUs}
}

// Install implements Remote.
func (s *SSH) Install(binDir string) error {
	abs, err := filepath.Abs(binDir)
	if err != nil {
		return fmt.Errorf("ssh install: %w", err)
	}
	for _, h := range s.hosts() {
		for _, name := range sshBinaries {
			if err := s.copyTo(h, filepath.Join(abs, name), 0o755); err != nil {
				return fmt.Errorf("ssh install: %w", err)
			}
		}
	}
	s.binDir = abs
	return nil
}

// copyTo copies the local file to host's copy of its path.
func (s *SSH) copyTo(host, local string, mode os.FileMode) error {
	f, err := os.Open(local)
	if err != nil {
		return err
	}
	defer f.Close()
	dst := s.remotePath(host, local)
	script := fmt.Sprintf("mkdir -p %s && cat > %s.part && chmod %o %s.part && mv %s.part %s",
		quote(path.Dir(dst)), quote(dst), mode, quote(dst), quote(dst), quote(dst))
	_, err = s.run(host, script, f)
	return err
}

// FileSet implements Remote.
func (s *SSH) FileSet(o fileset.Options) (*fileset.Manifest, error) {
	if s.binDir == "" {
		return nil, errors.New("ssh file set: binaries not installed")
	}
	host := s.o.ServerHost
	dir := s.remotePath(host, o.Dir)
	args := []string{quote(s.remotePath(host, filepath.Join(s.binDir, "fileset"))), "generate",
		"--kind", quote(string(o.Kind)), "--dir", quote(dir), "--seed", strconv.FormatInt(int64(o.Seed), 10)}
	switch o.Kind {
	case fileset.KindFixed:
		args = append(args, "--count", strconv.Itoa(o.Count), "--size", strconv.FormatInt(int64(o.SizeBytes), 10))
	case fileset.KindSingle:
		args = append(args, "--size", strconv.FormatInt(int64(o.SizeBytes), 10))
	default:
		args = append(args, "--connections", strconv.Itoa(o.Connections))
	}
	script := strings.Join(args, " ") + " >&2 && cat " + quote(path.Join(dir, fileset.ManifestName))
	data, err := s.run(host, script, nil)
	if err != nil {
		return nil, fmt.Errorf("ssh file set: %w", err)
	}
	m, err := fileset.ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("ssh file set: %s: %w", host, err)
	}
	for _, h := range s.o.ClientHosts {
		if h == host {
			continue
		}
		dst := s.remotePath(h, filepath.Join(o.Dir, fileset.ManifestName))
		c := s.command(h, fmt.Sprintf("mkdir -p %s && cat > %s", quote(path.Dir(dst)), quote(dst)))
		c.Stdin = bytes.NewReader(data)
		if out, err := c.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ssh file set: manifest to %s: %w: %s", h, err, strings.TrimSpace(string(out)))
		}
	}
	return m, nil
}

// TakeServerFile implements Remote.
func (s *SSH) TakeServerFile(p string) ([]byte, error) {
	f := quote(s.remotePath(s.o.ServerHost, p))
	return s.run(s.o.ServerHost, fmt.Sprintf("cat %s && rm -f %s", f, f), nil)
}

// Close implements Topology: it removes every remote directory and ends
// the master connections. It may be called more than once.
func (s *SSH) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for h, root := range s.roots {
		if _, err := s.run(h, "rm -rf "+quote(root), nil); err != nil {
			errs = append(errs, fmt.Errorf("ssh close: %w", err))
		}
	}
	for _, m := range s.masters {
		m.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-m.done:
		case <-time.After(5 * time.Second):
			m.cmd.Process.Kill()
			<-m.done
		}
	}
	if s.ctl != "" {
		os.RemoveAll(s.ctl)
	}
	return errors.Join(errs...)
}

// quote quotes s for a POSIX shell.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
