package soak

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// startTimeout bounds a server's start, up to its readiness line.
const startTimeout = 20 * time.Second

var readyRE = regexp.MustCompile(`webserver: \S+ listening on (\S+)`)

// server is one running webserver, the leader of its own process group
// (so that a Ctrl-C at the terminal reaches the soak alone, which then
// stops the servers itself, and so that what a server leaves behind can
// be found and killed).
type server struct {
	arch      string
	spec      archSpec
	pid       int
	addr      string
	statsFile string
	done      chan struct{}
	// exitErr, exitAt and unasked (an exit the soak did not ask for) are
	// set before done is closed.
	exitErr error
	exitAt  time.Time
	unasked bool
	// stopping is set before the soak signals the server itself.
	stopping atomic.Bool
}

// startServer starts `webserver --arch arch` on a free loopback port,
// logging to dir/arch.log, and waits for its readiness line.
func startServer(ctx context.Context, bin, arch, docroot, cgiDir, dir string) (*server, error) {
	spec := specFor(arch)
	logf, err := os.Create(filepath.Join(dir, arch+".log"))
	if err != nil {
		return nil, fmt.Errorf("soak: start %s: %w", arch, err)
	}
	defer logf.Close()
	s := &server{arch: arch, spec: spec, statsFile: filepath.Join(dir, arch+".stats.json"), done: make(chan struct{})}
	args := append([]string{"--arch", arch, "--root", docroot, "--listen", "127.0.0.1:0"}, spec.args(cgiDir, s.statsFile)...)
	cmd := exec.Command(filepath.Join(bin, "webserver"), args...)
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("soak: start %s: %w", arch, err)
	}
	cmd.Stdout, cmd.Stderr = pw, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, fmt.Errorf("soak: start %s: %w", arch, err)
	}
	s.pid = cmd.Process.Pid
	go func() {
		err := cmd.Wait()
		s.exitErr, s.exitAt, s.unasked = err, time.Now(), !s.stopping.Load()
		close(s.done)
	}()
	ready := make(chan string, 1)
	go watchStdout(pr, logf.Name(), ready)
	return s, s.awaitReady(ctx, ready, logf.Name())
}

// watchStdout copies the server's standard output to its log and hands
// over the address of its readiness line.
func watchStdout(pr *os.File, logName string, ready chan<- string) {
	defer pr.Close()
	logf, err := os.OpenFile(logName, os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		defer logf.Close()
	}
	sent := false
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if m := readyRE.FindStringSubmatch(sc.Text()); m != nil && !sent {
			ready <- m[1]
			sent = true
		}
		if logf != nil {
			fmt.Fprintln(logf, sc.Text())
		}
	}
}

// awaitReady waits for the readiness line; on failure it kills the server.
func (s *server) awaitReady(ctx context.Context, ready <-chan string, logName string) error {
	var err error
	select {
	case s.addr = <-ready:
		return nil
	case <-s.done:
		err = fmt.Errorf("soak: start %s: exited: %v%s", s.arch, s.exitErr, logTail(logName))
	case <-time.After(startTimeout):
		err = fmt.Errorf("soak: start %s: not ready after %v%s", s.arch, startTimeout, logTail(logName))
	case <-ctx.Done():
		err = fmt.Errorf("soak: start %s: %w", s.arch, ctx.Err())
	}
	s.kill()
	return err
}

// crashed reports whether the server exited without being told to.
func (s *server) crashed() bool {
	select {
	case <-s.done:
		return s.unasked
	default:
		return false
	}
}

// exited reports whether the server process has exited.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// terminate sends SIGTERM, marking the exit as asked for.
func (s *server) terminate() {
	s.stopping.Store(true)
	if !s.exited() {
		syscall.Kill(s.pid, syscall.SIGTERM)
	}
}

// kill ends the server and whatever is left of its process group with
// SIGKILL, and waits until the server is reaped.
func (s *server) kill() {
	s.stopping.Store(true)
	syscall.Kill(-s.pid, syscall.SIGKILL)
	<-s.done
	// The group may outlive its leader: kill what is left of it.
	syscall.Kill(-s.pid, syscall.SIGKILL)
}

// stop asks the server to stop (SIGTERM), kills it after timeout, and
// then kills what is left of its process group.
func (s *server) stop(timeout time.Duration) {
	s.terminate()
	select {
	case <-s.done:
	case <-time.After(timeout):
	}
	s.kill()
}

// exitStatus returns the exit status of an exited server, -1 for a
// death by signal.
func (s *server) exitStatus() int {
	if s.exitErr == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(s.exitErr, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// logTail returns the last lines of a log, for an error message.
func logTail(name string) string {
	b, err := os.ReadFile(name)
	text := strings.TrimSpace(string(b))
	if err != nil || text == "" {
		return ""
	}
	lines := strings.Split(text, "\n")
	return ": " + strings.Join(lines[max(len(lines)-3, 0):], " | ")
}
