package topology

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"flashbench/internal/atomicfile"
)

// remoteWrapper runs a command on a host as a process the harness can
// signal and that cannot outlive its ssh session. The shell prints its PID
// (the command's, after exec), waits for a "go" line (so that several
// clients start at the same moment), and leaves a watcher that kills the
// whole process group once the session's standard input closes: when the
// command has ended, or when the harness stopped or died. The watcher's
// PID is printed too, to keep it out of the command's usage.
const remoteWrapper = `mkdir -p %s || exit 1; echo $$; read -r _ || exit 1; exec 3<&0; ` +
	`(cat <&3 >/dev/null 2>&1; kill -s KILL -- -$$ 2>/dev/null) >/dev/null 2>&1 </dev/null & echo $!; ` +
	`exec 3<&- </dev/null; exec env %s`

// usageScript prints "S <stat line>" and "H <VmHWM>" for a process and
// its descendants, leaving out the subtree of the watcher ($2).
const usageScript = `walk() { for p in "$@"; do [ "$p" = "$W" ] && continue; ` +
	`s=$(cat /proc/$p/stat 2>/dev/null) || continue; echo "S $s"; ` +
	`h=$(grep VmHWM /proc/$p/status 2>/dev/null); echo "H ${h#VmHWM:}"; ` +
	`walk $(cat /proc/$p/task/*/children 2>/dev/null); done; }; W=%d; walk %d`

// StartServer implements Topology.
func (s *SSH) StartServer(cmd Command) (Process, error) {
	if len(cmd.CgroupProcs) > 0 {
		return nil, errors.New("ssh topology: cgroups are not available on remote hosts")
	}
	p, err := s.startRemote(s.o.ServerHost, cmd, cmd.Args, s.ServerCPUs)
	if err != nil {
		return nil, err
	}
	if err := p.begin(); err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}

// StartClient implements Topology: cmd (bin/loadgen) runs on every client
// host with its --connections and --rate shared out among them and a seed
// of its own; they start at the same moment, and once all have ended their
// --output documents are fetched and merged into cmd's --output here.
func (s *SSH) StartClient(cmd Command) (Process, error) {
	g := &clientGroup{s: s, merger: cmd.Path, output: flagValue(cmd.Args, "--output", "-o"), done: make(chan struct{})}
	n := len(s.o.ClientHosts)
	for i, h := range s.o.ClientHosts {
		args, err := shareLoad(cmd.Args, i, n)
		if err == nil {
			var p *remoteProcess
			if p, err = s.startRemote(h, cmd, args, s.ClientCPUs); err == nil {
				g.procs = append(g.procs, p)
			}
		}
		if err != nil {
			g.Kill()
			return nil, err
		}
	}
	for _, p := range g.procs {
		if err := p.begin(); err != nil {
			g.Kill()
			return nil, err
		}
	}
	go g.wait()
	return g, nil
}

// startRemote starts cmd with args on host and waits for its PID; the
// command itself runs once begin is called.
func (s *SSH) startRemote(host string, cmd Command, args []string, cpus []int) (*remoteProcess, error) {
	words := append(append([]string{}, cmd.Env...), "taskset", "-c", cpuList(cpus), s.remotePath(host, cmd.Path))
	words = append(words, s.mapArgs(host, args)...)
	dirs := []string{quote(s.remotePath(host, "/tmp"))}
	for _, a := range s.mapArgs(host, args) {
		if strings.HasPrefix(a, s.roots[host]+"/") {
			dirs = append(dirs, quote(path.Dir(a)))
		}
	}
	for i := range words {
		words[i] = quote(words[i])
	}
	c := s.command(host, fmt.Sprintf(remoteWrapper, strings.Join(dirs, " "), strings.Join(words, " ")))
	p := &remoteProcess{s: s, host: host, cmd: c, done: make(chan struct{}), pidc: make(chan int, 1)}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("ssh %s: %w", host, err)
	}
	p.stdin = inW
	c.Stdin, c.Stderr = inR, cmd.Stderr
	// The remote output passes through this process: a file given as
	// standard output is duplicated, as a child's would be, so that the
	// caller may close its own copy once the process has started.
	stdout, closeOut, err := ownWriter(cmd.Stdout)
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("ssh %s: %w", host, err)
	}
	c.Stdout = &headerWriter{p: p, dst: stdout}
	err = c.Start()
	inR.Close()
	if err != nil {
		inW.Close()
		closeOut()
		return nil, fmt.Errorf("ssh %s: start %s: %w", host, cmd.Path, err)
	}
	go func() {
		p.err = c.Wait()
		p.stdin.Close()
		closeOut()
		close(p.done)
	}()
	select {
	case p.pid = <-p.pidc:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("ssh %s: start %s: %v", host, path.Base(cmd.Path), p.err)
	case <-time.After(30 * time.Second):
		p.kill()
		return nil, fmt.Errorf("ssh %s: start %s: no PID after 30s", host, path.Base(cmd.Path))
	}
}

// ownWriter returns w, or a duplicate of it when it is a file, and what
// closes the duplicate.
func ownWriter(w io.Writer) (io.Writer, func(), error) {
	f, ok := w.(*os.File)
	if !ok {
		return w, func() {}, nil
	}
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, nil, os.NewSyscallError("fcntl", err)
	}
	dup := os.NewFile(uintptr(fd), f.Name())
	return dup, func() { dup.Close() }, nil
}

// remoteProcess is a command running on a host through ssh.
type remoteProcess struct {
	s       *SSH
	host    string
	cmd     *exec.Cmd
	stdin   *os.File // held open: its end ends the remote process
	pid     int
	watcher atomic.Int64
	pidc    chan int
	done    chan struct{}
	err     error
}

// begin lets the remote command run.
func (p *remoteProcess) begin() error {
	if _, err := p.stdin.Write([]byte("go\n")); err != nil {
		return fmt.Errorf("ssh %s: %w", p.host, err)
	}
	return nil
}

func (p *remoteProcess) PID() int              { return p.pid }
func (p *remoteProcess) Done() <-chan struct{} { return p.done }

func (p *remoteProcess) Err() error {
	<-p.done
	return p.err
}

func (p *remoteProcess) Signal(sig os.Signal) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	ss, ok := sig.(syscall.Signal)
	if !ok {
		return fmt.Errorf("ssh %s: signal %v: unsupported", p.host, sig)
	}
	name := strings.TrimPrefix(unix.SignalName(ss), "SIG")
	_, err := p.s.run(p.host, fmt.Sprintf("kill -s %s %d", name, p.pid), nil)
	return err
}

// Kill kills the remote process group and ends the session, whose end
// makes the watcher kill the group again.
func (p *remoteProcess) Kill() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	_, err := p.s.run(p.host, fmt.Sprintf("kill -s KILL -- -%d %d 2>/dev/null; true", p.pid, p.pid), nil)
	p.kill()
	return err
}

// kill ends the local side: the session's standard input closes, then ssh.
func (p *remoteProcess) kill() {
	p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
	}
}

// Usage implements Process from the host's /proc.
func (p *remoteProcess) Usage() (Usage, error) {
	out, err := p.s.run(p.host, fmt.Sprintf(usageScript, p.watcher.Load(), p.pid), nil)
	if err != nil {
		return Usage{}, fmt.Errorf("usage: %w", err)
	}
	return parseUsage(out, p.pid)
}

// parseUsage sums the output of usageScript.
func parseUsage(out []byte, pid int) (Usage, error) {
	var u Usage
	var ticksU, ticksS int64
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "S "); ok {
			st, ok := parseStat([]byte(v))
			if !ok {
				return Usage{}, fmt.Errorf("usage: bad stat line %q", v)
			}
			ticksU += st.utime + st.cutime
			ticksS += st.stime + st.cstime
			u.Procs++
		} else if v, ok := strings.CutPrefix(line, "H "); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			u.HWMBytes += kb << 10
		}
	}
	if u.Procs == 0 {
		return Usage{}, fmt.Errorf("usage: process %d: gone", pid)
	}
	u.User = time.Duration(ticksU) * time.Second / clockTicks
	u.System = time.Duration(ticksS) * time.Second / clockTicks
	return u, nil
}

// headerWriter takes the wrapper's two header lines (the command's PID,
// then the watcher's) off the remote standard output and passes the rest
// on.
type headerWriter struct {
	p     *remoteProcess
	dst   io.Writer
	buf   []byte
	lines int
}

func (w *headerWriter) Write(b []byte) (int, error) {
	n := len(b)
	for w.lines < 2 && len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			w.buf = append(w.buf, b...)
			return n, nil
		}
		v, _ := strconv.Atoi(strings.TrimSpace(string(append(w.buf, b[:i]...))))
		w.buf, b = w.buf[:0], b[i+1:]
		if w.lines == 0 {
			w.p.pidc <- v
		} else {
			w.p.watcher.Store(int64(v))
		}
		w.lines++
	}
	if len(b) > 0 && w.dst != nil {
		if _, err := w.dst.Write(b); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// clientGroup is the load generators of every client host as one Process.
type clientGroup struct {
	s              *SSH
	procs          []*remoteProcess
	merger, output string
	done           chan struct{}
	err            error
}

// wait waits for every client, then fetches and merges their results.
func (g *clientGroup) wait() {
	defer close(g.done)
	var errs []error
	for _, p := range g.procs {
		if err := p.Err(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.host, err))
		}
	}
	if g.err = errors.Join(errs...); g.err == nil && g.output != "" {
		g.err = g.collect()
	}
}

// collect fetches each client's result and merges them into g.output. A
// client's result is removed from its host only once g.output is in
// place, written atomically: a local write that fails (a full disk, a
// missing directory) leaves every remote result as it was.
func (g *clientGroup) collect() error {
	var parts []string
	defer func() {
		for _, f := range parts {
			os.Remove(f)
		}
	}()
	remotes := make([]string, len(g.procs))
	for i, p := range g.procs {
		remotes[i] = g.s.remotePath(p.host, g.output)
		data, err := g.s.run(p.host, "cat "+quote(remotes[i]), nil)
		if err != nil {
			return fmt.Errorf("fetch result: %w", err)
		}
		local := g.output
		if len(g.procs) > 1 {
			local = fmt.Sprintf("%s.client%d.json", strings.TrimSuffix(g.output, ".json"), i)
		}
		if err := atomicfile.WriteFile(local, data); err != nil {
			return fmt.Errorf("fetch result: %w", err)
		}
		if local != g.output {
			parts = append(parts, local)
		}
	}
	if len(parts) > 1 {
		args := append(append([]string{"merge"}, parts...), "--output", g.output)
		if out, err := exec.Command(g.merger, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("loadgen merge: %w: %s", err, strings.TrimSpace(string(out)))
		}
	}
	// The result is kept here: a remote copy the removal misses is never
	// fetched again (a client that fails is not collected, one that
	// succeeds writes anew) and goes with its directory at Close.
	for i, p := range g.procs {
		g.s.run(p.host, "rm -f "+quote(remotes[i]), nil)
	}
	return nil
}

func (g *clientGroup) PID() int              { return g.procs[0].PID() }
func (g *clientGroup) Done() <-chan struct{} { return g.done }

func (g *clientGroup) Err() error {
	<-g.done
	return g.err
}

func (g *clientGroup) Signal(sig os.Signal) error {
	var errs []error
	for _, p := range g.procs {
		errs = append(errs, p.Signal(sig))
	}
	return errors.Join(errs...)
}

func (g *clientGroup) Kill() error {
	var errs []error
	for _, p := range g.procs {
		errs = append(errs, p.Kill())
	}
	return errors.Join(errs...)
}

// Usage sums the clients' usage.
func (g *clientGroup) Usage() (Usage, error) {
	var sum Usage
	for _, p := range g.procs {
		u, err := p.Usage()
		if err != nil {
			return Usage{}, err
		}
		sum.User, sum.System = sum.User+u.User, sum.System+u.System
		sum.HWMBytes, sum.Procs = sum.HWMBytes+u.HWMBytes, sum.Procs+u.Procs
	}
	return sum, nil
}

// flagValue returns the value of the first of names in args, or "".
func flagValue(args []string, names ...string) string {
	for i, a := range args {
		for _, n := range names {
			if a == n && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, n+"="); ok {
				return v
			}
		}
	}
	return ""
}

// shareLoad returns client i of n's arguments: the --connections and
// --rate of args shared out (the first clients take the remainder), and a
// --seed of its own unless one is given, so that the clients do not
// request the same sequence.
func shareLoad(args []string, i, n int) ([]string, error) {
	out := append([]string{}, args...)
	seeded := false
	for j := 0; j+1 < len(out); j++ {
		switch out[j] {
		case "--connections", "-c":
			c, err := strconv.Atoi(out[j+1])
			if err != nil || c < n {
				return nil, fmt.Errorf("ssh topology: %s connections for %d client hosts: want at least one each", out[j+1], n)
			}
			share := c / n
			if i < c%n {
				share++
			}
			out[j+1] = strconv.Itoa(share)
		case "--rate":
			r, err := strconv.ParseFloat(out[j+1], 64)
			if err != nil {
				return nil, fmt.Errorf("ssh topology: rate %q: %w", out[j+1], err)
			}
			out[j+1] = strconv.FormatFloat(r/float64(n), 'f', -1, 64)
		case "--seed":
			seeded = true
		}
	}
	if !seeded && n > 1 {
		out = append([]string{"--seed", strconv.Itoa(i + 1)}, out...)
	}
	return out, nil
}
