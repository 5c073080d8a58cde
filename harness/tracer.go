package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tracer is strace -c -f attached to a server's processes.
type tracer struct {
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error
	// stopped is set once stop has run: stop is called on every way out.
	stopped bool
	stopErr error
}

// startStrace attaches strace (bin) to pids and their threads, following
// the children they start from then on, and counts their system calls
// into out; its own messages go to logPath. It runs in a process group
// of its own, so that a Ctrl-C at the terminal reaches the harness, which
// stops it, and dies with the harness (it then detaches).
func startStrace(bin, out, logPath string, pids []int) (*tracer, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("strace: %w", err)
	}
	args := []string{"-f", "-c", "-q", "-o", out}
	for _, p := range pids {
		args = append(args, "-p", strconv.Itoa(p))
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("strace: %w", err)
	}
	t := &tracer{cmd: cmd, log: log, done: make(chan struct{})}
	go func() {
		t.err = cmd.Wait()
		close(t.done)
	}()
	return t, nil
}

// waitAttached waits until strace traces every thread of pids (their
// TracerPid is strace's), so that no request goes uncounted; a process
// that exited meanwhile has nothing left to trace.
func (t *tracer) waitAttached(ctx context.Context, pids []int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		pending := untraced(pids, t.cmd.Process.Pid)
		if pending == 0 {
			return nil
		}
		select {
		case <-t.done:
			return fmt.Errorf("strace: exited before it attached: %v%s", t.err, logTail(t.log))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("strace: %d threads of the server not attached after %v%s", pending, limit, logTail(t.log))
		}
	}
}

// untraced counts the threads of pids whose tracer is not tracerPID.
func untraced(pids []int, tracerPID int) int {
	n := 0
	for _, p := range pids {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", p))
		for _, task := range tasks {
			if tp, ok := tracerOf(task); ok && tp != tracerPID {
				n++
			}
		}
	}
	return n
}

// tracerOf reads TracerPid from a /proc status file; false when the task
// is gone.
func tracerOf(status string) (int, bool) {
	b, err := os.ReadFile(status)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "TracerPid:"); ok {
			pid, err := strconv.Atoi(strings.TrimSpace(v))
			return pid, err == nil
		}
	}
	return 0, false
}

// stop interrupts strace, which then detaches from the server and writes
// its table, and waits for it; one that lingers is killed. It reports
// an strace that had exited before or did not end as told; called again,
// it returns the first call's answer.
func (t *tracer) stop() error {
	if t.stopped {
		return t.stopErr
	}
	t.stopped = true
	defer t.log.Close()
	select {
	case <-t.done:
		t.stopErr = fmt.Errorf("strace: exited during the pass: %v%s", t.err, logTail(t.log))
		return t.stopErr
	default:
	}
	t.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-t.done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-t.cmd.Process.Pid, syscall.SIGKILL)
		<-t.done
		t.stopErr = errors.New("strace: still running 10s after SIGINT, killed")
		return t.stopErr
	}
	if !interruptedExit(t.err) {
		t.stopErr = fmt.Errorf("strace: %v%s", t.err, logTail(t.log))
	}
	return t.stopErr
}

// interruptedExit reports whether err is how strace ends on SIGINT: it
// detaches, writes its table and ends by the signal, or exits 0.
func interruptedExit(err error) bool {
	if err == nil {
		return true
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ((ws.Signaled() && ws.Signal() == syscall.SIGINT) || ws.ExitStatus() == 128+int(syscall.SIGINT))
}
