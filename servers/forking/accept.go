package forking

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// acceptLoop takes a child slot, accepts a connection and starts its
// child, until stop is closed or the listener is closed.
func (s *Server) acceptLoop() error {
	for {
		select {
		case s.slots <- struct{}{}:
		case <-s.stop:
			return nil
		}
		fd, err := s.accept()
		if fd < 0 {
			<-s.slots
			return err
		}
		if s.opts.Stats != nil {
			s.opts.Stats.Connections.Add(1)
		}
		if err := s.startChild(fd); err != nil {
			<-s.slots
			fmt.Fprintln(s.opts.Stderr, err)
			time.Sleep(10 * time.Millisecond) // out of processes or memory: let children finish
		}
	}
}

// accept blocks in accept4 until a connection arrives, stop is closed
// (-1, nil) or the listener fails (-1, error).
func (s *Server) accept() (int, error) {
	for {
		select {
		case <-s.stop:
			return -1, nil
		default:
		}
		fd, _, err := unix.Accept4(s.lfd, unix.SOCK_CLOEXEC)
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR), errors.Is(err, unix.ECONNABORTED):
		case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE),
			errors.Is(err, unix.ENOBUFS), errors.Is(err, unix.ENOMEM):
			s.countAcceptError()
			time.Sleep(10 * time.Millisecond) // let children exit and free resources
		case errors.Is(err, unix.EBADF), errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOTSOCK):
			return -1, nil // the listener was closed
		default:
			s.countAcceptError()
			return -1, fmt.Errorf("forking: %w", os.NewSyscallError("accept4", err))
		}
	}
}

func (s *Server) countAcceptError() {
	if s.opts.Stats != nil {
		s.opts.Stats.AcceptErrors.Add(1)
	}
}

// startChild starts the child for connection fd, closes the parent's copy
// of fd, and reaps the child in a goroutine that frees its slot.
func (s *Server) startChild(fd int) error {
	conn := os.NewFile(uintptr(fd), "conn")
	defer conn.Close() // the child has its own copy from here on
	cmd := exec.Command(s.opts.Command[0], s.opts.Command[1:]...)
	cmd.Env = s.env
	cmd.Stderr = s.opts.Stderr
	cmd.ExtraFiles = []*os.File{conn} // becomes ConnFD
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("forking: start child: %w", err)
	}
	s.started.Add(1)
	pid := cmd.Process.Pid
	s.mu.Lock()
	s.children[pid] = cmd.Process
	s.reaped.Add(1)
	s.mu.Unlock()
	go func() {
		if err := cmd.Wait(); err != nil {
			s.failed.Add(1)
		}
		s.mu.Lock()
		delete(s.children, pid)
		s.mu.Unlock()
		s.reaped.Done()
		<-s.slots
	}()
	return nil
}

// drain asks the children to end their connections gracefully, kills
// those still alive after deadline, and waits until every one is reaped.
func (s *Server) drain(deadline time.Duration) {
	all := make(chan struct{})
	go func() { s.reaped.Wait(); close(all) }()
	s.mu.Lock()
	for _, p := range s.children {
		p.Signal(GracefulStop) // finish the response being sent, close an idle connection
	}
	s.mu.Unlock()
	select {
	case <-all:
		return
	case <-time.After(deadline):
	}
	s.mu.Lock()
	for _, p := range s.children {
		p.Kill()
	}
	s.mu.Unlock()
	<-all
}

// sample records the memory of the process tree until the returned
// function is called.
func (s *Server) sample() (stop func()) {
	return s.peak.SampleEvery(s.opts.SampleEvery, s.tree)
}

// sampleNow adds the parent and its live children to the peak memory.
func (s *Server) sampleNow() { s.peak.SampleSet(s.tree()) }

// tree is the parent and its live children.
func (s *Server) tree() []int { return append(s.Children(), os.Getpid()) }
