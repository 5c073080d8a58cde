package topologytest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ProxyMain is the test binary as the lab's ssh ProxyCommand: it connects
// to host:port from the namespace it was started in and relays its
// standard input and output. A test binary that makes a lab calls it from
// TestMain when FLASHBENCH_HARNESS_HELPER is "proxy", with os.Args[1] and
// os.Args[2], and exits with what it returns.
func ProxyMain(host, port string) int {
	c, err := net.Dial("tcp", net.JoinHostPort(host, port))
	if err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		return 1
	}
	go func() {
		io.Copy(c, os.Stdin)
		c.(*net.TCPConn).CloseWrite()
	}()
	io.Copy(os.Stdout, c)
	return 0
}

// SSHLab is two hosts on this machine: sshd in namespace A (198.18.0.1,
// host "fbsrv") and in namespace B (198.18.0.2, host "fbcli"), joined by a
// veth pair, with a client key and an ssh_config reaching both through a
// proxy in A.
type SSHLab struct {
	// Config is the ssh_config file (ssh -F) naming both hosts.
	Config string
	dir    string
	ns     [2]string
}

// NewSSHLab makes the lab; the test's cleanup takes it down. It skips the
// test when not root or without OpenSSH's server and client.
func NewSSHLab(t *testing.T) *SSHLab {
	t.Helper()
	NeedNetns(t)
	for _, p := range []string{"/usr/sbin/sshd", "ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s not installed (apt-get install openssh-server)", p)
		}
	}
	lockLab(t)
	pid := strconv.Itoa(os.Getpid())
	lab := &SSHLab{dir: t.TempDir(), ns: [2]string{"fb-" + pid + "-ssha", "fb-" + pid + "-sshb"}}
	sh := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	for _, ns := range lab.ns {
		sh("ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	sh("ip", "link", "add", "fb"+pid+"a", "netns", lab.ns[0], "type", "veth", "peer", "name", "fb"+pid+"b", "netns", lab.ns[1])
	addrs := [2]string{"198.18.0.1", "198.18.0.2"}
	for i, ns := range lab.ns {
		dev := "fb" + pid + string("ab"[i])
		sh("ip", "-n", ns, "link", "set", "lo", "up")
		sh("ip", "-n", ns, "addr", "add", addrs[i]+"/30", "dev", dev)
		sh("ip", "-n", ns, "link", "set", dev, "up")
	}
	sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(lab.dir, "id"))
	pub, err := os.ReadFile(filepath.Join(lab.dir, "id.pub"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(lab.dir, "authorized_keys"), string(pub))
	if _, err := os.Stat("/run/sshd"); os.IsNotExist(err) {
		// sshd's privilege separation directory, made by its service.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove("/run/sshd") })
	}
	for i, ns := range lab.ns {
		lab.startSSHD(t, ns, addrs[i], i)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	lab.Config = filepath.Join(lab.dir, "ssh_config")
	writeFile(t, lab.Config, fmt.Sprintf(`Host fbsrv
  HostName 198.18.0.1
Host fbcli
  HostName 198.18.0.2
Host *
  User root
  IdentityFile %s
  IdentitiesOnly yes
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  LogLevel ERROR
  ProxyCommand env FLASHBENCH_HARNESS_HELPER=proxy ip netns exec %s %s %%h %%p
`, filepath.Join(lab.dir, "id"), lab.ns[0], exe))
	return lab
}

// labLock is the lock one lab at a time on this machine holds.
const labLock = "/tmp/flashbench-sshlab.lock"

// lockLab waits for the machine's lab lock and holds it until the test
// and every cleanup registered after this call have ended. A lab's hosts
// share this machine's /tmp, where the ssh topology makes its remote
// directories (/tmp/fb-remote-*), and tests count those directories and
// look for processes running from them: two labs at once (the topology's
// and the harness's tests, which go test runs in parallel, or another
// checkout's) would see each other's.
func lockLab(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(labLock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		t.Fatal(os.NewSyscallError("flock", err))
	}
	t.Cleanup(func() { f.Close() }) // closing the only descriptor unlocks
}

// startSSHD starts an sshd of its own in namespace ns, listening on addr.
func (lab *SSHLab) startSSHD(t *testing.T, ns, addr string, i int) {
	t.Helper()
	key := filepath.Join(lab.dir, fmt.Sprintf("host%d", i))
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	conf := filepath.Join(lab.dir, fmt.Sprintf("sshd%d.conf", i))
	writeFile(t, conf, fmt.Sprintf(`ListenAddress %s:22
HostKey %s
PidFile %s
AuthorizedKeysFile %s
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
`, addr, key, filepath.Join(lab.dir, fmt.Sprintf("sshd%d.pid", i)), filepath.Join(lab.dir, "authorized_keys")))
	var stderr bytes.Buffer
	cmd := exec.Command("ip", "netns", "exec", ns, "/usr/sbin/sshd", "-D", "-e", "-f", conf)
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// sshd by its PID; then whatever of its sessions is left.
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ok := exec.Command("ip", "netns", "exec", ns, "ss", "-Htln", "src", addr+":22").Run() == nil
		if out, _ := exec.Command("ip", "netns", "exec", ns, "ss", "-Htln", "src", addr+":22").Output(); ok && len(out) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd in %s not listening: %s", ns, stderr.String())
		}
	}
}

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
