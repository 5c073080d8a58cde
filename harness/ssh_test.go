package harness_test

import (
	"bufio"
	"bytes"
	"context"
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

	"flashbench/harness"
	"flashbench/results"
)

// proxyMain is the test binary as an ssh ProxyCommand: it connects to
// host:port from the namespace it was started in and relays its standard
// input and output.
func proxyMain(host, port string) int {
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

// sshLab is two hosts on this machine: sshd in namespace A (198.18.0.1,
// host "fbsrv") and in namespace B (198.18.0.2, host "fbcli"), joined by a
// veth pair, with a client key and an ssh_config reaching both through a
// proxy in A.
type sshLab struct {
	dir, config string
	ns          [2]string
}

func newSSHLab(t *testing.T) *sshLab {
	t.Helper()
	needRoot(t)
	for _, p := range []string{"/usr/sbin/sshd", "ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s not installed (apt-get install openssh-server)", p)
		}
	}
	pid := strconv.Itoa(os.Getpid())
	lab := &sshLab{dir: t.TempDir(), ns: [2]string{"fb-" + pid + "-ssha", "fb-" + pid + "-sshb"}}
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
	lab.config = filepath.Join(lab.dir, "ssh_config")
	writeFile(t, lab.config, fmt.Sprintf(`Host fbsrv
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

// startSSHD starts an sshd of its own in namespace ns, listening on addr.
func (lab *sshLab) startSSHD(t *testing.T, ns, addr string, i int) {
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

// remoteDirs returns the remote directories the ssh topology made (the
// hosts are on this machine).
func remoteDirs(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("/tmp/fb-remote-*")
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// TestSSHQuick runs the quick experiment with the server on one host and
// clients on two (one of them the server's host), over real OpenSSH.
func TestSSHQuick(t *testing.T) {
	lab := newSSHLab(t)
	before := remoteDirs(t)
	topo, err := harness.NewSSH(harness.SSHOptions{ServerHost: "fbsrv", ClientHosts: []string{"fbcli", "fbsrv"}, ConfigFile: lab.config})
	if topo != nil {
		t.Cleanup(func() { topo.Close() })
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := topo.ServerAddr().String(); got != "198.18.0.1" {
		t.Errorf("got server address %s, want 198.18.0.1 (fbsrv's HostName)", got)
	}
	var log bytes.Buffer
	out, err := harness.Execute(context.Background(), harness.Options{Experiment: quickExperiment(t), Topology: topo,
		BinDir: binDir, OutDir: t.TempDir(), FileSetDir: t.TempDir(), Quick: true, Log: &log})
	if err != nil {
		t.Fatalf("Execute: %v\n%s", err, log.String())
	}
	made := len(remoteDirs(t)) - len(before)
	if err := topo.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if made != 2 {
		t.Errorf("got %d remote directories, want 2 (one a host)", made)
	}
	if after := remoteDirs(t); len(after) != len(before) {
		t.Errorf("got remote directories %v after Close, want %v", after, before)
	}
	if left := processesMatching(t, "/tmp/fb-remote-"); len(left) > 0 {
		t.Errorf("got remote processes %v left behind, want none", left)
	}
	ix, err := harness.ReadIndex(out.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Topology != "ssh" || ix.Interrupted {
		t.Errorf("run.json: got topology %q, interrupted %v; want ssh, false", ix.Topology, ix.Interrupted)
	}
	ok := 0
	for _, p := range ix.Points {
		if p.Status != harness.StatusOK {
			continue
		}
		ok++
		checkSSHPoint(t, out.Dir, p)
	}
	if ok != 4 {
		logs, _ := filepath.Glob(filepath.Join(out.Dir, "logs", "*"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			log.WriteString(l + ":\n" + string(b))
		}
		t.Errorf("got %d points ok, want 4 (sped and null at two sizes)\n%s", ok, log.String())
	}
}

// checkSSHPoint checks a point's document: both clients merged, the
// server's usage and stats fetched from its host.
func checkSSHPoint(t *testing.T, dir string, p harness.PointEntry) {
	t.Helper()
	r, err := results.Read(filepath.Join(dir, p.Result))
	if err != nil {
		t.Fatal(err)
	}
	if r.Provenance.Topology != "ssh" || r.RequestsTotal == 0 || r.ErrorsTotal != 0 {
		t.Errorf("point %s: got topology %q, %d requests, %d errors; want ssh, > 0, 0", p.ID, r.Provenance.Topology, r.RequestsTotal, r.ErrorsTotal)
	}
	if n, _ := r.Config.Extra["merged_results"].(float64); n != 2 {
		t.Errorf("point %s: got merged_results %v, want 2 (two client hosts)", p.ID, r.Config.Extra["merged_results"])
	}
	if !strings.Contains(strings.Join(r.Config.Targets, " "), "198.18.0.1:") {
		t.Errorf("point %s: got targets %v, want 198.18.0.1", p.ID, r.Config.Targets)
	}
	if sv := r.Server; sv.PeakRSSBytes == nil || *sv.PeakRSSBytes <= 0 || sv.CPUUserS == nil || len(sv.Stats) == 0 {
		t.Errorf("point %s: got server peak rss %v, cpu user %v s, %d stats; want > 0, measured, some",
			p.ID, sv.PeakRSSBytes, sv.CPUUserS, len(sv.Stats))
	}
}

// processesMatching returns the live processes whose command line
// contains s.
func processesMatching(t *testing.T, s string) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && bytes.Contains(b, []byte(s)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestSSHResultKeptUntilLocalCopy runs a client whose result cannot be
// written here (its directory does not exist on this machine): the run
// fails, and the client's result stays on its host. Once the directory
// exists, the same run writes the result here, and only then is the
// remote copy removed.
func TestSSHResultKeptUntilLocalCopy(t *testing.T) {
	lab := newSSHLab(t)
	topo, err := harness.NewSSH(harness.SSHOptions{ServerHost: "fbsrv", ClientHosts: []string{"fbcli"}, ConfigFile: lab.config})
	if topo != nil {
		t.Cleanup(func() { topo.Close() })
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := topo.Install(binDir); err != nil {
		t.Fatal(err)
	}
	url := startSSHServer(t, topo)
	out := filepath.Join(t.TempDir(), "gone", "run.json")
	remote := func() string {
		t.Helper()
		m, err := filepath.Glob(filepath.Join("/tmp/fb-remote-*", "root", out)) // the hosts are on this machine
		if err != nil || len(m) > 1 {
			t.Fatalf("remote copies of %s: got %v, %v; want at most one", out, m, err)
		}
		if len(m) == 0 {
			return ""
		}
		return m[0]
	}
	client := func() error {
		t.Helper()
		p, err := topo.StartClient(harness.Command{Path: filepath.Join(binDir, "loadgen"),
			Args: []string{url, "--connections", "2", "--duration", "300ms", "--warmup", "0s", "--output", out}})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-p.Done():
		case <-time.After(60 * time.Second):
			p.Kill()
			t.Fatal("client still running after 60s")
		}
		return p.Err()
	}
	err = client()
	if err == nil || !strings.Contains(err.Error(), "no such file or directory") {
		t.Fatalf("client with no local directory: got %v, want the local write's error", err)
	}
	kept := remote()
	if kept == "" {
		t.Fatalf("after a failed local write: the remote result of %s is gone, want it kept", out)
	}
	if r, err := results.Read(kept); err != nil || r.RequestsTotal == 0 {
		t.Errorf("remote result kept: got %v, %v; want a result with requests", r, err)
	}
	if err := os.Mkdir(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := client(); err != nil {
		t.Fatalf("client: %v", err)
	}
	if r, err := results.Read(out); err != nil || r.RequestsTotal == 0 {
		t.Errorf("local result: got %v, %v; want a result with requests", r, err)
	}
	if left := remote(); left != "" {
		t.Errorf("after the local write: remote result %s left, want it removed", left)
	}
}

// startSSHServer starts the null server on the server host and returns
// its URL once it listens; it is killed when the test ends.
func startSSHServer(t *testing.T, topo *harness.SSH) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() }) // after the server is killed
	addr := topo.ServerAddr().String() + ":8080"
	p, err := topo.StartServer(harness.Command{Path: filepath.Join(binDir, "webserver"),
		Args: []string{"--arch", "null", "--listen", addr}, Stdout: w, Stderr: os.Stderr})
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill() })
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		ready <- line
	}()
	select {
	case line := <-ready:
		if !strings.Contains(line, "listening on "+addr) {
			t.Fatalf("server: got %q, want it listening on %s", line, addr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server not listening after 30s")
	}
	return "http://" + addr + "/"
}
