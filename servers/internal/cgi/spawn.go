package cgi

import (
	"os"
	"os/exec"
	"strconv"

	"golang.org/x/sys/unix"

	"flashbench/cgi-apps/app"
)

// proc is one persistent program process and the server's ends of its
// pipes: requests go to wfd (its standard input), responses come from rfd
// (its standard output). Both are non-blocking and close-on-exec.
type proc struct {
	cmd      *exec.Cmd
	rfd, wfd int
	memfd    int // the shared-memory pool, -1 without
	poolSize int
	mem      []byte        // the pool mapped read-only: what the server sends from
	done     chan struct{} // closed once the process is reaped
}

// setNonblock is unix.SetNonblock; a test replaces it to make spawn fail
// once its child runs.
var setNonblock = unix.SetNonblock

// pipeSize is asked for the response pipe, so that a large response
// needs fewer round trips between program and server (the kernel may cap
// it at /proc/sys/fs/pipe-max-size).
const pipeSize = 1 << 20

// spawn starts the program at path with fresh pipes and, with a pool
// size, a shared-memory pool passed as fd 3.
func spawn(path, root string, poolSize int) (*proc, error) {
	var in, out [2]int
	if err := unix.Pipe2(in[:], unix.O_CLOEXEC); err != nil {
		return nil, errorf("spawn %s: %w", path, os.NewSyscallError("pipe2", err))
	}
	if err := unix.Pipe2(out[:], unix.O_CLOEXEC); err != nil {
		closeAll(in[0], in[1])
		return nil, errorf("spawn %s: %w", path, os.NewSyscallError("pipe2", err))
	}
	unix.FcntlInt(uintptr(out[1]), unix.F_SETPIPE_SZ, pipeSize)
	p := &proc{rfd: out[0], wfd: in[1], memfd: -1, done: make(chan struct{})}
	childIn, childOut := os.NewFile(uintptr(in[0]), "cgi-stdin"), os.NewFile(uintptr(out[1]), "cgi-stdout")
	defer childIn.Close()
	defer childOut.Close()
	cmd := exec.Command(path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = childIn, childOut, os.Stderr
	cmd.Env = append(os.Environ(), EnvRoot+"="+root)
	if poolSize > 0 {
		fd, err := newPool(poolSize)
		if err != nil {
			closeAll(p.rfd, p.wfd)
			return nil, errorf("spawn %s: %w", path, err)
		}
		p.memfd, p.poolSize = fd, poolSize
		if p.mem, err = unix.Mmap(fd, 0, poolSize, unix.PROT_READ, unix.MAP_SHARED); err != nil {
			p.closeFds()
			return nil, errorf("spawn %s: map pool: %w", path, os.NewSyscallError("mmap", err))
		}
		dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			p.closeFds()
			return nil, errorf("spawn %s: %w", path, os.NewSyscallError("fcntl", err))
		}
		f := os.NewFile(uintptr(dup), "cgi-pool") // the child's copy, closed here once it runs
		defer f.Close()
		cmd.ExtraFiles = []*os.File{f}
		cmd.Env = append(cmd.Env, app.EnvSharedMemory+"=3:"+strconv.Itoa(poolSize))
	}
	if err := cmd.Start(); err != nil {
		p.closeFds()
		return nil, errorf("spawn %s: %w", path, err)
	}
	for _, fd := range []int{p.rfd, p.wfd} {
		if err := setNonblock(fd, true); err != nil {
			cmd.Process.Kill()
			cmd.Wait() // reap it: no zombie
			p.closeFds()
			return nil, errorf("spawn %s: %w", path, os.NewSyscallError("fcntl", err))
		}
	}
	p.cmd = cmd
	go func() { cmd.Wait(); close(p.done) }() // reap: no zombie
	return p, nil
}

// newPool creates a shared-memory pool of size bytes.
func newPool(size int) (int, error) {
	fd, err := unix.MemfdCreate("flashbench-cgi-pool", unix.MFD_CLOEXEC)
	if err != nil {
		return -1, os.NewSyscallError("memfd_create", err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("ftruncate", err)
	}
	return fd, nil
}

// kill kills the process (reaped by spawn's goroutine) and closes the
// pipes; the pool stays open for buffers still in flight (closePool).
func (p *proc) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Kill()
	}
	closeAll(p.rfd, p.wfd)
	p.rfd, p.wfd = -1, -1
}

// closePool unmaps and closes the pool: call it only when no plan still
// points into the mapping.
func (p *proc) closePool() {
	if p.mem != nil {
		unix.Munmap(p.mem)
		p.mem = nil
	}
	if p.memfd >= 0 {
		unix.Close(p.memfd)
		p.memfd = -1
	}
}

func (p *proc) closeFds() {
	closeAll(p.rfd, p.wfd)
	p.rfd, p.wfd = -1, -1
	p.closePool()
}

func closeAll(fds ...int) {
	for _, fd := range fds {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}
