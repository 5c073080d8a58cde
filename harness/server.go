package harness

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"flashbench/harness/topology"
	"flashbench/results"
)

// server is a server under test, started in a topology.
type server struct {
	arch string
	proc topology.Process
	addr netip.AddrPort
	// statsFile is the webserver's stats file ("" for real servers).
	statsFile string
	// takeFile reads and removes a file a remote server wrote.
	takeFile func(string) ([]byte, error)
	log      *os.File
}

var readyRE = regexp.MustCompile(`webserver: \S+ listening on (\S+)`)

// webserverArchs returns the architectures the webserver binary offers,
// read from its --help.
func webserverArchs(bin string) (map[string]bool, error) {
	out, err := exec.Command(bin, "--help").Output()
	if err != nil {
		return nil, fmt.Errorf("webserver --help: %w", err)
	}
	m := regexp.MustCompile(`server architecture: ([a-z0-9_, -]+)`).FindSubmatch(out)
	if m == nil {
		return nil, errors.New("webserver --help: no architecture list")
	}
	archs := map[string]bool{}
	for _, a := range strings.Split(string(m[1]), ",") {
		if a = strings.TrimSpace(a); a != "" {
			archs[a] = true
		}
	}
	return archs, nil
}

// cgroupProcs are the cgroup.procs files the server joins before it is
// exec'd, each once (on cgroup v2 a cell's memory and CPU cgroups are one
// directory).
func (sc serverConfig) cgroupProcs() []string {
	var files []string
	if sc.cgroup != nil {
		files = append(files, sc.cgroup.ProcsFile())
	}
	if sc.cpu != nil {
		for _, f := range sc.cpu.ProcsFiles() {
			if !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
	}
	return files
}

// startWebserver starts `webserver --arch` on a free port of the topology's
// server address and waits for its readiness line.
func startWebserver(ctx context.Context, topo topology.Topology, bin string, sc serverConfig) (*server, error) {
	args := []string{"--arch", webArch(sc.arch), "--root", sc.docroot,
		"--listen", netip.AddrPortFrom(topo.ServerAddr(), 0).String(), "--stats-file", sc.statsFile}
	args = append(args, sc.args...)
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", sc.arch, err)
	}
	cmd := topology.Command{Path: bin, Args: args, Env: []string{fmt.Sprintf("GOMAXPROCS=%d", len(topo.Pinning().ServerCPUs))},
		Stdout: pw, Stderr: sc.log, CgroupProcs: sc.cgroupProcs()}
	p, err := topo.StartServer(cmd)
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, err
	}
	s := &server{arch: sc.arch, proc: p, statsFile: sc.statsFile, log: sc.log}
	if rem, ok := topo.(topology.Remote); ok {
		s.takeFile = rem.TakeServerFile
	}
	lines := make(chan string, 1)
	go func() {
		defer pr.Close()
		sent := false
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := readyRE.FindStringSubmatch(sc.Text()); m != nil && !sent {
				lines <- m[1]
				sent = true
			}
			fmt.Fprintln(s.log, sc.Text())
		}
	}()
	select {
	case a := <-lines:
		if s.addr, err = netip.ParseAddrPort(a); err != nil {
			s.stop(time.Second)
			return nil, fmt.Errorf("start %s: readiness line: %w", sc.arch, err)
		}
		return s, nil
	case <-p.Done():
		return nil, fmt.Errorf("start %s: exited: %v%s", sc.arch, p.Err(), logTail(sc.log))
	case <-time.After(sc.startTimeout):
		s.stop(time.Second)
		return nil, fmt.Errorf("start %s: not ready after %v%s", sc.arch, sc.startTimeout, logTail(sc.log))
	case <-ctx.Done():
		s.stop(time.Second)
		return nil, ctx.Err()
	}
}

// startExternal starts a real server on a free port and waits until it
// accepts connections.
func startExternal(ctx context.Context, topo topology.Topology, prog string, sc serverConfig) (*server, error) {
	port, err := topology.ServerPort(topo)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", sc.arch, err)
	}
	x := &external{Docroot: sc.docroot, Dir: sc.dir, Addr: netip.AddrPortFrom(topo.ServerAddr(), port),
		User: serverUser(), MaxConns: sc.maxConns}
	cmd, err := x.command(sc.arch, prog)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", sc.arch, err)
	}
	cmd.Stdout, cmd.Stderr, cmd.CgroupProcs = sc.log, sc.log, sc.cgroupProcs()
	p, err := topo.StartServer(cmd)
	if err != nil {
		return nil, err
	}
	s := &server{arch: sc.arch, proc: p, addr: x.Addr, log: sc.log}
	deadline := time.Now().Add(sc.startTimeout)
	dial := topology.DialFunc(topo)
	for {
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := dial(dctx, "tcp", s.addr.String())
		cancel()
		if err == nil {
			c.Close()
			return s, nil
		}
		select {
		case <-p.Done():
			return nil, fmt.Errorf("start %s: exited: %v%s", sc.arch, p.Err(), logTail(sc.log, filepath.Join(sc.dir, "error.log")))
		case <-ctx.Done():
			s.stop(time.Second)
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop(time.Second)
			return nil, fmt.Errorf("start %s: not accepting on %v after %v%s", sc.arch, s.addr, sc.startTimeout,
				logTail(sc.log, filepath.Join(sc.dir, "error.log")))
		}
	}
}

// stop ends the server: SIGTERM to its own PID, SIGKILL to its process
// group after timeout, and SIGKILL to whatever of the group is left once
// it has exited.
func (s *server) stop(timeout time.Duration) error {
	var err error
	s.proc.Signal(syscall.SIGTERM)
	select {
	case <-s.proc.Done():
	case <-time.After(timeout):
		err = fmt.Errorf("stop %s: still running %v after SIGTERM, killed", s.arch, timeout)
	}
	if kerr := s.proc.Kill(); kerr != nil && err == nil {
		err = fmt.Errorf("stop %s: %w", s.arch, kerr)
	}
	<-s.proc.Done()
	return err
}

// exited says how the server ended, as "(signal: killed)", or "" while
// it runs.
func (s *server) exited() string {
	select {
	case <-s.proc.Done():
		if err := s.proc.Err(); err != nil {
			return "(" + err.Error() + ")"
		}
		return "(exit status 0)"
	default:
		return ""
	}
}

// setUsage sets res.Server from the server tree's usage before the trial,
// its peak memory and its last sampled usage during it, and its usage and
// stats now. It returns how the server ended if it did: then its CPU time
// is what it had used by the last sample.
func (s *server) setUsage(res *results.Result, before topology.Usage, hwm int64, last topology.Usage) (gone string) {
	after, err := s.proc.Usage()
	gone = s.exited()
	if gone == "" && err != nil {
		gone = "(" + err.Error() + ")"
	}
	if gone != "" {
		after = last
	}
	res.Server = results.Server{Arch: s.arch, CPUUserS: new((after.User - before.User).Seconds()),
		CPUSystemS: new((after.System - before.System).Seconds()), PeakRSSBytes: new(max(hwm, after.HWMBytes))}
	if gone == "" {
		res.Server.Stats = s.readStats()
	}
	return gone
}

// readStats asks the webserver to rewrite its stats file (SIGUSR1) and
// returns its content; real servers have none.
func (s *server) readStats() map[string]any {
	if s.statsFile == "" {
		return nil
	}
	if s.takeFile != nil {
		return s.takeRemoteStats()
	}
	os.Remove(s.statsFile)
	if s.proc.Signal(syscall.SIGUSR1) != nil {
		return nil
	}
	for i := 0; i < 100; i++ {
		if m, err := readJSONObject(s.statsFile); err == nil {
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// takeRemoteStats is readStats for a server on another host.
func (s *server) takeRemoteStats() map[string]any {
	s.takeFile(s.statsFile) // an earlier document, if any
	if s.proc.Signal(syscall.SIGUSR1) != nil {
		return nil
	}
	for i := 0; i < 20; i++ {
		var m map[string]any
		if b, err := s.takeFile(s.statsFile); err == nil && json.Unmarshal(b, &m) == nil {
			return m
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// logTail returns the last lines of the given logs, for an error message.
func logTail(files ...any) string {
	var b strings.Builder
	for _, f := range files {
		var name string
		switch f := f.(type) {
		case *os.File:
			name = f.Name()
		case string:
			name = f
		}
		data, err := os.ReadFile(name)
		if err != nil || len(data) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) > 3 {
			lines = lines[len(lines)-3:]
		}
		b.WriteString(": " + strings.Join(lines, " | "))
	}
	return b.String()
}
